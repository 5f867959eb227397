// Topic B: loss recovery on an established connection, as Linux 6.x does it (RFC 8985).

import { decodePacket } from '../../wire/packet.ts';
import { latencyParam, ms, text, type Scenario } from '../scenario.ts';
import { reader, serve } from './apps.ts';

export const tailLossProbe: Scenario = {
  id: 'tail-loss-probe',
  title: 'A lost last segment: the tail loss probe repairs it in two round trips, not an RTO',
  topic: 'B',
  explain:
    'The client writes 6000 bytes: five segments. The last two are lost, so no duplicate ACK or SACK can reveal the loss. ' +
    'Linux does not wait for the retransmission timeout (at least 200 ms): two smoothed RTTs after the last ACK (plus 2 jiffies, with two ' +
    'packets still out) its tail loss probe (RFC 8985 §7, tcp_schedule_loss_probe) sends the last segment again. The receiver SACKs it; ' +
    'RACK then marks the fourth segment lost (it was sent before a delivered one) and fast recovery resends it with PRR pacing the cwnd ' +
    'reduction (TcpExtTCPLossProbes, TcpExtTCPSackRecovery). ' +
    'With early_retrans=0 (net.ipv4.tcp_early_retrans) there is no probe: the segment waits for the RTO.',
  question: 'How long does a connection take to notice that its very last segment was lost?',
  params: [latencyParam, { name: 'early_retrans', description: 'net.ipv4.tcp_early_retrans (0: no probe; 3: Linux\'s default)', default: 3, min: 0, max: 4 }],
  notice: [
    'client: segments 4 and 5 are dropped (x); ~28 ms after the last ACK the fifth goes again as a "tail loss probe"',
    'its SACK lets RACK mark the fourth lost: "fast retransmission (RACK)", all repaired within three round trips of the loss',
    'early_retrans=0: both wait for the RTO (~210 ms), then go again one by one (TcpExtTCPTimeouts 1)',
  ],
  config: (p) => ({ client: { tcp_early_retrans: p['early_retrans']! } }),
  setup({ net, client, server, serverAddr }) {
    serve(server, 80, (s) => reader(s, {}));
    const c = client.socket();
    reader(c, {});
    let data = 0;
    // Drop the client's fourth and fifth data segments, once each.
    net.addFilter((pk) => {
      const d = pk.from === 'client' ? decodePacket(pk.packet) : null;
      if (!d?.ok || d.value.tcp.payload.length === 0) return 'pass';
      data++;
      return data === 4 || data === 5 ? null : 'pass';
    });
    net.at(ms(1), () => c.connect(serverAddr, 80));
    net.at(ms(100), () => c.send(text('x'.repeat(6000))));
    net.at(ms(1000), () => c.close());
  },
  duration: () => ms(1500),
};
