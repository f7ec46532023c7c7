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

/** postconf -e lines that lift Postfix's per-client limits: a bench's one client sends all the load. */
export const LOAD_LIMITS = [
  'default_process_limit=200',
  'smtpd_client_connection_count_limit=0',
  'smtpd_client_message_rate_limit=0',
  'anvil_rate_time_unit=60s',
];
