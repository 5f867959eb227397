// The BSD-style call layer: file descriptors and socket calls with Linux's results over a Host.
export * from './constants.ts';
export { BLOCKED, BlockedError, Call, NetworkDriver, type Attempt, type Driver } from './call.ts';
export { TCP_INFO_SIZE, tcpInfo, type TcpInfo } from './tcpinfo.ts';
export * from './syscalls.ts';
export { nullBuffer } from './types.ts';
