public import NIOCore

/// Encodes commands as RESP arrays of bulk strings, the only form Redis reads from clients.
public enum RESPCommand {
    public static func encode(_ arguments: [String], into buffer: inout ByteBuffer) {
        buffer.writeString("*\(arguments.count)\r\n")
        for argument in arguments {
            buffer.writeString("$\(argument.utf8.count)\r\n")
            buffer.writeString(argument)
            buffer.writeString("\r\n")
        }
    }

    public static func encode(_ arguments: [String]) -> ByteBuffer {
        var buffer = ByteBuffer()
        encode(arguments, into: &buffer)
        return buffer
    }
}
