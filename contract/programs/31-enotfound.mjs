export const title = 'connect() to a host name that does not resolve: ENOTFOUND with the name, errno -3008, syscall getaddrinfo';
export default async function (t) {
  const c = t.net.connect(80, 'no-such-host.invalid');
  t.watch('client', c);
  await t.once(c, 'close');
}
