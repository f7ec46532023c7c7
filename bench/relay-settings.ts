// The settings every bench appliance shares: mx.company.com in SMTP mode, relaying company.com to
// a sink on loopback. Each bench adds its own ports and checks.
export function relayingTo(sinkPort: number) {
  return {
    network: { hostname: 'mx.company.com' },
    mail: {
      mode: 'smtp',
      externalDomain: 'company.com',
      internalDomain: 'company.com',
      finalServer: '127.0.0.1',
      finalServerPort: sinkPort,
      relayDomains: ['company.com'],
    },
  };
}
