// How the PWA uses the reference client: `tsc --strict` checks the handlers' types.
import { HiveOpsClient } from "../ws-client";

const client = new HiveOpsClient({
  url: "wss://ops.example.com/api/dashboard/ws/dashboard?access_token=TOKEN",
  subscriptions: ["agents", "alerts"],
  wantsStream: () => true,
});

client.on("critical_alert", (alert) => {
  const count: number = alert.data.alerts.length;
  console.log(`${count} critical alert(s)`);
});
client.on("agent_update", (update) => console.log(update.subscription, update.data));
client.on("reconnected", ({ gapMs, resubscribed }) => console.log(`back after ${gapMs} ms, re-subscribed ${resubscribed.join(", ")}`));
client.on("notice", (notice) => console.log(`server says ${notice.reason}`));
client.on("version-mismatch", ({ server, client: mine }) => console.error(`contract ${server} is not compatible with ${mine}`));
client.on("state", (state) => console.log(state));
client.start();
