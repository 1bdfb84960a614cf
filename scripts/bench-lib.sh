# Sourced by the bench scripts: a free loopback port, and a throwaway redis-server on one.

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Starts a redis-server (no persistence) on a free loopback port: sets redis_port and redis (its URL).
# The caller shuts it down: redis-cli -p "$redis_port" shutdown nosave.
start_redis() {
  redis_port=$(free_port)
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes >/dev/null
  redis="redis://127.0.0.1:$redis_port"
}
