// Our SPF check_host() against mailauth's spf(), case by case, over one in-memory zone: the same
// result, domain, comment and Authentication-Results row. The few cases where mailauth departs
// from RFC 7208 name the section and expect the RFC's answer from ours (and mailauth's own answer
// from it, so a mailauth that changes is noticed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spf } from 'mailauth';
import { evaluateSpf } from '../../../runtime/checks/spf-evaluate.js';

type Zone = Record<
  string,
  { TXT?: Array<string | string[]>; A?: string[]; AAAA?: string[]; MX?: Array<[number, string]>; PTR?: string[]; fail?: Record<string, string> }
>;

const V4 = '192.0.2.10';
const V6 = '2001:db8::10';
const RECEIVER = 'mx.receiver.test';
const NOW = 1_700_000_000_000;
/** A local part of 60 letters: five of them make a name longer than DNS allows. */
const LONG = 'a'.repeat(60);

const spf1 = (text: string) => ({ TXT: [`v=spf1 ${text}`] });

const zone: Zone = {
  'pass.test': spf1('ip4:192.0.2.0/24 -all'),
  'fail.test': spf1('ip4:198.51.100.0/24 -all'),
  'softfail.test': spf1('~all'),
  'neutral.test': spf1('?all'),
  'plusall.test': spf1('+all'),
  'bare.test': spf1(''),
  'exact.test': spf1('ip4:192.0.2.10 -all'),
  'prefix0.test': spf1('ip4:0.0.0.0/0 -all'),
  'cidr31.test': spf1('ip4:192.0.2.11/31 -all'),
  'cidr32miss.test': spf1('ip4:192.0.2.11/32 -all'),
  'ip6.test': spf1('ip6:2001:db8::/32 -all'),
  'ip6exact.test': spf1('ip6:2001:DB8:0:0::10 -all'),
  'ip6zero.test': spf1('ip6:::/0 -all'),
  'ip6mapped.test': spf1('ip6:::ffff:192.0.2.10 -all'),
  'ip4in6.test': spf1('ip4:::1 ip6:192.0.2.10 -all'),
  'ip6compat.test': spf1('ip6:::1.1.1.1/0'),
  'ip6compat-dual.test': spf1('ip6:::1.1.1.1//33'),
  'ip6-dual.test': spf1('ip6:2001:db8::/64//64 -all'),
  'upper.test': spf1('IP4:192.0.2.10 -ALL'),
  'qualifiers.test': spf1('?ip4:192.0.2.10 -all'),
  'tilde-a.test': { ...spf1('~a -all'), A: [V4] },
  'a.test': { ...spf1('a -all'), A: [V4] },
  'a-other.test': spf1('a:host.a-other.test/24 -all'),
  'host.a-other.test': { A: ['192.0.2.99'] },
  'a-dot.test': spf1('a:host.a-other.test./24 -all'),
  'a-dual.test': { ...spf1('a/24//64 -all'), A: ['192.0.2.1'], AAAA: ['2001:db8::1'] },
  'a-v6host.test': spf1('a:v6host.test a:v6host.test a:v6host.test -all'),
  'v6host.test': { AAAA: ['2001:db8::99'] },
  'a-void2.test': spf1('a:nx1.test a:nx2.test -all'),
  'a-void3.test': spf1('a:nx1.test a:nx2.test a:nx3.test -all'),
  'a-timeout.test': spf1('a:slow.test -all'),
  'slow.test': { fail: { A: 'ETIMEOUT', AAAA: 'ETIMEOUT', TXT: 'ETIMEOUT' } },
  'a-other-timeout.test': spf1('a:half.test -all'),
  'half.test': { A: ['198.51.100.9'], fail: { AAAA: 'ETIMEOUT' } },
  'syntax.test': spf1('ip4:bad -all'),
  'a-localhost.test': spf1('a:localhost -all'),
  'a-cidr33.test': spf1('a/33 -all'),
  'mx.test': {
    ...spf1('mx -all'),
    MX: [
      [20, 'mx2.mx.test'],
      [10, 'mx1.mx.test'],
    ],
  },
  'mx1.mx.test': { A: ['198.51.100.1'] },
  'mx2.mx.test': { A: [V4], AAAA: ['2001:db8::10'] },
  'mx-cidr.test': { ...spf1('mx:mx-cidr-host.test/24 -all') },
  'mx-cidr-host.test': { MX: [[10, 'host.a-other.test']] },
  'mx-null.test': { ...spf1('mx -all'), MX: [[0, '']] },
  'mx-none.test': spf1('mx -all'),
  'mx-voids.test': {
    ...spf1('mx -all'),
    MX: [
      [1, 'nx1.test'],
      [2, 'nx2.test'],
      [3, 'nx3.test'],
    ],
  },
  'mx-eleven.test': { ...spf1('mx -all'), MX: Array.from({ length: 11 }, (_, n) => [n, `m${n}.mx-eleven.test`] as [number, string]) },
  ...Object.fromEntries(Array.from({ length: 11 }, (_, n) => [`m${n}.mx-eleven.test`, { A: [n === 10 ? V4 : `198.51.100.${n + 1}`] }])),
  'exists.test': spf1('exists:%{i}.allow.test -all'),
  '192.0.2.10.allow.test': { A: ['127.0.0.2'] },
  'exists-l.test': spf1('exists:%{l}.users.test -all'),
  'alice.users.test': { A: ['127.0.0.2'] },
  'exists-timeout.test': spf1('exists:slow.test -all'),
  'ptr.test': spf1('ptr -all'),
  '10.2.0.192.in-addr.arpa': { PTR: ['mail.ptr.test', 'fake.other.test'] },
  'mail.ptr.test': { A: [V4] },
  'fake.other.test': { A: ['198.51.100.7'] },
  'ptr-other.test': spf1('ptr:other.test -all'),
  'ptr-named.test': spf1('ptr:ptr.test -all'),
  'ptr-cidr.test': spf1('ptr/24 -all'),
  'ptr-timeout.test': spf1('ptr ~all'),
  '77.2.0.192.in-addr.arpa': { fail: { PTR: 'ETIMEOUT' } },
  '0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa': { PTR: ['mail.ptr6.test'] },
  'ptr6.test': spf1('ptr -all'),
  'mail.ptr6.test': { AAAA: [V6] },
  'inc.test': spf1('include:pass.test -all'),
  'inc-fail.test': spf1('include:fail.test ~all'),
  'inc-neutral.test': spf1('include:neutral.test -all'),
  'inc-none.test': spf1('include:nothing.test -all'),
  'inc-nospf.test': spf1('include:nospf.test -all'),
  'inc-syntax.test': spf1('include:syntax.test -all'),
  'inc-timeout.test': spf1('include:slow.test -all'),
  'inc-refused.test': spf1('include:refused.test -all'),
  'inc-minus.test': spf1('-include:pass.test +all'),
  'inc-dot.test': spf1('include:pass.test. -all'),
  'inc-chain.test': spf1('include:inc.test -all'),
  'inc-servfail.test': spf1('include:servfail.test -all'),
  'inc-empty.test': spf1('include -all'),
  'inc-d.test': spf1('include:sub.inc-d.test -all'),
  'sub.inc-d.test': spf1('exists:%{d}.allow.test -all'),
  'sub.inc-d.test.allow.test': { A: ['127.0.0.2'] },
  'redir.test': spf1('redirect=pass.test'),
  'redir-fail.test': spf1('redirect=fail.test'),
  'redir-all.test': spf1('?all redirect=pass.test'),
  'redir-none.test': spf1('redirect=nothing.test'),
  'redir-two.test': spf1('redirect=pass.test redirect=fail.test'),
  'redir-dot.test': spf1('redirect=pass.test.'),
  'redir-bad.test': spf1('redirect=nodot'),
  'redir-upper.test': spf1('redirect=PASS.TEST'),
  'redir-macro.test': spf1('redirect=_spf.%{d}'),
  '_spf.redir-macro.test': spf1('ip4:192.0.2.10 -all'),
  'redir-empty.test': spf1('redirect='),
  'redir-timeout.test': spf1('redirect=slow.test'),
  'loop.test': spf1('include:loop.test -all'),
  'redir-loop.test': spf1('redirect=redir-loop.test'),
  'ten.test': spf1('a:far.test a:far.test a:far.test a:far.test a:far.test a:far.test a:far.test a:far.test a:far.test a:far.test -all'),
  'eleven.test': spf1('a:far.test a:far.test a:far.test a:far.test a:far.test a:far.test a:far.test a:far.test a:far.test a:far.test a:far.test -all'),
  'far.test': { A: ['198.51.100.50'] },
  'ten-inc.test': spf1(
    'include:fail.test include:fail.test include:fail.test include:fail.test include:fail.test include:fail.test include:fail.test include:fail.test include:fail.test ip4:192.0.2.10 -all',
  ),
  'unknown-mech.test': spf1('foo -all'),
  'unknown-late.test': spf1('ip4:192.0.2.10 foo:bar -all'),
  'bad-ip.test': spf1('ip4:999.1.1.1 -all'),
  'bad-ip-late.test': spf1('ip4:192.0.2.10 ip4:999.1.1.1 -all'),
  'cidr33.test': spf1('ip4:192.0.2.0/33 -all'),
  'cidr-zero.test': spf1('ip4:192.0.2.0/024 -all'),
  'cidr6-on-4.test': spf1('ip4:192.0.2.0//64 -all'),
  'ip6-cidr129.test': spf1('ip6:2001:db8::/129 -all'),
  'all-ext.test': spf1('-all:foo'),
  'empty-value.test': spf1('a: -all'),
  'bare-ip4.test': spf1('ip4 -all'),
  'bad-mod.test': spf1('1foo=bar -all'),
  'empty-exp.test': spf1('exp= -all'),
  'exp.test': spf1('exp=explain.exp.test -all'),
  'unknown-mod.test': spf1('moo=cow ip4:192.0.2.10 -all'),
  'bad-macro.test': spf1('exists:%{x}.allow.test -all'),
  'lone-pct.test': spf1('exists:100%.allow.test -all'),
  'multi.test': { TXT: ['v=spf1 -all', 'v=spf1 +all'] },
  'one-of-many.test': { TXT: ['google-site-verification=abc', ['v=spf1 ip4:192.0.2.10', ' -all']] },
  'spf10.test': { TXT: ['v=spf10 +all'] },
  'nospf.test': { TXT: ['google-site-verification=abc'] },
  'noprint.test': { TXT: ['v=spf1 ip4:192.0.2.10 -all\u00e9'] },
  'case-v.test': { TXT: ['V=SPF1 ip4:192.0.2.10 -all'] },
  'spaces.test': { TXT: ['  v=spf1   ip4:192.0.2.10    -all  '] },
  'timeout.test': { fail: { TXT: 'ETIMEOUT' } },
  'refused.test': { fail: { TXT: 'EREFUSED' } },
  'servfail.test': { fail: { TXT: 'ESERVFAIL' } },
  'macros.test': spf1('exists:%{ir}.%{v}.%{d2}.m.test -all'),
  '10.2.0.192.in-addr.macros.test.m.test': { A: ['127.0.0.2'] },
  'macro-l.test': spf1('exists:%{l1r-}.%{o}.l.test -all'),
  'x.macro-l.test.l.test': { A: ['127.0.0.2'] },
  'macro-s.test': spf1('exists:%{s}.s.test -all'),
  'alice@macro-s.test.s.test': { A: ['127.0.0.2'] },
  'macro-h.test': spf1('exists:%{h}.h.test -all'),
  'mail.sender.test.h.test': { A: ['127.0.0.2'] },
  'macro-c.test': spf1('exists:%{c}.c.test -all'),
  '192.0.2.10.c.test': { A: ['127.0.0.2'] },
  '2001:db8::10.c.test': { A: ['127.0.0.2'] },
  'macro-i6.test': spf1('exists:%{ir}.%{v}.i6.test -all'),
  '0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.i6.test': { A: ['127.0.0.2'] },
  'macro-r.test': spf1('exists:%{r}.r.test -all'),
  'mx.receiver.test.r.test': { A: ['127.0.0.2'] },
  'macro-t.test': spf1('exists:%{t}.t.test -all'),
  '1700000000.t.test': { A: ['127.0.0.2'] },
  'macro-pct.test': spf1('exists:a%-b%%c%_d.pct.test -all'),
  'a%20b%c d.pct.test': { A: ['127.0.0.2'] },
  'macro-delim.test': spf1('exists:%{l2+}.%{d}.delim.test -all'),
  'b.c.macro-delim.test.delim.test': { A: ['127.0.0.2'] },
  'macro-upper.test': spf1('exists:%{L}.up.test -all'),
  'a%2bb.up.test': { A: ['127.0.0.2'] },
  'macro-p.test': spf1('exists:%{p}.p.test -all'),
  'mail.ptr.test.p.test': { A: ['127.0.0.2'] },
  'macro-redir.test': spf1('redirect=%{l}.redir.test'),
  'alice.redir.test': spf1('ip4:192.0.2.10 -all'),
  'macro-a.test': spf1('a:%{l}.hosts.test -all'),
  'macro-long.test': spf1('exists:%{l}.%{l}.%{l}.%{l}.%{l}.long.test -all'),
  [`${LONG}.${LONG}.${LONG}.${LONG}.long.test`]: { A: ['127.0.0.2'] },
  'alice.hosts.test': { A: [V4] },
};

class DnsError extends Error {
  constructor(
    readonly code: string,
    name: string,
    type: string,
  ) {
    super(`query${type[0]}${type.slice(1).toLowerCase()} ${code} ${name}`);
  }
}

async function resolve(name: string, type: string): Promise<string[][] | string[]> {
  const key = name.toLowerCase().replace(/\.$/, '');
  const entry = zone[key];
  if (!entry) throw new DnsError('ENOTFOUND', name, type);
  const failure = entry.fail?.[type];
  if (failure) throw new DnsError(failure, name, type);
  if (type === 'TXT' && entry.TXT) return entry.TXT.map((r) => (Array.isArray(r) ? [...r] : [r]));
  if (type === 'MX' && entry.MX) return entry.MX.map(([priority, exchange]) => ({ priority, exchange })) as unknown as string[];
  const records = (entry as Record<string, unknown>)[type];
  if (Array.isArray(records)) return [...(records as string[])];
  throw new DnsError('ENODATA', name, type);
}

interface Case {
  sender: string;
  ip?: string;
  helo?: string;
  /** What ours answers where mailauth departs from the RFC, and what mailauth answers there. */
  rfc?: { section: string; ours: string; mailauth: string };
}

const at = (domain: string, ip = V4): Case => ({ sender: `alice@${domain}`, ip });

const cases: Record<string, Case> = {
  'ip4 network: pass': at('pass.test'),
  'ip4 network: fail': at('fail.test'),
  '~all: softfail': at('softfail.test'),
  '?all: neutral': at('neutral.test'),
  '+all: pass': at('plusall.test'),
  'no term matches: neutral': at('bare.test'),
  'ip4 exact address': at('exact.test'),
  'ip4 exact address, another client': at('exact.test', '192.0.2.11'),
  'ip4 /0 matches all': at('prefix0.test', '203.0.113.5'),
  'ip4 /31': at('cidr31.test'),
  'ip4 /32 misses': at('cidr32miss.test'),
  'ip6 network, IPv6 client': at('ip6.test', V6),
  'ip6 network, IPv4 client': at('ip6.test'),
  'ip6 exact, zeros written out, upper case': at('ip6exact.test', V6),
  'ip6 ::/0, IPv6 client': {
    ...at('ip6zero.test', V6),
    rfc: { section: 'RFC 7208 5.6: ip6-cidr-length 0 matches every IPv6 address', ours: 'pass', mailauth: 'fail' },
  },
  'ip6 ::/0, IPv4 client': at('ip6zero.test'),
  'ip6 term with a mapped address does not match an IPv4 client': at('ip6mapped.test'),
  'ip4 term with an IPv6 address, ip6 with an IPv4 one: no match': at('ip4in6.test'),
  'ip6 with an IPv4-compatible network /0, IPv6 client': at('ip6compat.test', V6),
  'ip6 with an IPv4-compatible network /0, IPv4 client': at('ip6compat.test'),
  'ip6 with an IPv4-compatible network /0, IPv4-mapped client': at('ip6compat.test', '::ffff:192.0.2.10'),
  'ip6 with a dual length: permerror': at('ip6compat-dual.test', V6),
  'ip6 with two lengths': {
    ...at('ip6-dual.test', V6),
    rfc: { section: 'RFC 7208 5.6: ip6-network takes one ip6-cidr-length, no dual-cidr-length', ours: 'permerror', mailauth: 'pass' },
  },
  'upper-case mechanism names': at('upper.test'),
  '? qualifier on a match': at('qualifiers.test'),
  '~ qualifier on a': at('tilde-a.test'),
  'a: the domain itself': at('a.test'),
  'a: another host with /24': at('a-other.test'),
  'a: a name ending in a dot': { ...at('a-dot.test'), rfc: { section: 'RFC 7208 7.1: domain-end may end in "."', ours: 'pass', mailauth: 'permerror' } },
  'a: dual CIDR, IPv4 client': at('a-dual.test'),
  'a: dual CIDR, IPv6 client': at('a-dual.test', V6),
  'a: an IPv6-only host is no void lookup for an IPv4 client': at('a-v6host.test'),
  'a: two void lookups are allowed': at('a-void2.test'),
  'a: a third void lookup is a permerror': at('a-void3.test'),
  'a: A timeout is a temperror': at('a-timeout.test'),
  'a: the other family timing out does not matter': at('a-other-timeout.test'),
  "a: the client's family timing out: temperror": at('a-other-timeout.test', V6),
  'a: a single-label name is a permerror': at('a-localhost.test'),
  'a: /33 is a permerror': at('a-cidr33.test'),
  'mx: second-priority host matches': at('mx.test'),
  'mx: IPv6 client': at('mx.test', V6),
  'mx: another domain with /24': at('mx-cidr.test'),
  'mx: a null MX matches nothing': at('mx-null.test'),
  'mx: no MX records': at('mx-none.test'),
  'mx: three hosts without addresses: void limit': at('mx-voids.test'),
  'mx: eleven hosts: limit': at('mx-eleven.test'),
  'exists with %{i}': at('exists.test'),
  'exists with %{l}: alice': at('exists-l.test'),
  'exists with %{l}: bob': { sender: 'bob@exists-l.test', ip: V4 },
  'exists: timeout': at('exists-timeout.test'),
  'ptr: validated name in the domain': { ...at('ptr.test'), helo: 'mail.ptr.test' },
  'ptr: another domain': at('ptr-other.test'),
  'ptr:domain': at('ptr-named.test'),
  'ptr: no PTR records for the client': at('ptr.test', '192.0.2.12'),
  'ptr with a CIDR length: permerror': at('ptr-cidr.test'),
  'ptr: a PTR timeout does not match': {
    ...at('ptr-timeout.test', '192.0.2.77'),
    rfc: { section: 'RFC 7208 5.5: a DNS error during the PTR lookup makes the mechanism fail to match', ours: 'softfail', mailauth: 'temperror' },
  },
  'ptr: IPv6 client': at('ptr6.test', V6),
  'include: pass': at('inc.test'),
  'include: fail does not match': at('inc-fail.test'),
  'include: neutral does not match': at('inc-neutral.test'),
  'include: no such domain: permerror': at('inc-none.test'),
  'include: no SPF record: permerror': at('inc-nospf.test'),
  'include: its syntax error': at('inc-syntax.test'),
  'include: its timeout': at('inc-timeout.test'),
  'include: refused': at('inc-refused.test'),
  '-include on a pass': at('inc-minus.test'),
  'include: target ending in a dot': at('inc-dot.test'),
  'include: chain of two': at('inc-chain.test'),
  'include: SERVFAIL': {
    ...at('inc-servfail.test'),
    rfc: { section: 'RFC 7208 5.2: a temperror in the included check_host() is the result', ours: 'temperror', mailauth: 'fail' },
  },
  'include without a domain': at('inc-empty.test'),
  'include: %{d} is the included domain': {
    ...at('inc-d.test'),
    rfc: { section: 'RFC 7208 7.3: d is the current domain, the include target inside it', ours: 'pass', mailauth: 'fail' },
  },
  'redirect: pass': at('redir.test'),
  'redirect: fail': at('redir-fail.test'),
  'redirect ignored beside all': at('redir-all.test'),
  'redirect to no record: permerror': at('redir-none.test'),
  'two redirects: permerror': at('redir-two.test'),
  'redirect target ending in a dot': at('redir-dot.test'),
  'redirect to a single label: permerror': at('redir-bad.test'),
  'redirect target in upper case': {
    ...at('redir-upper.test'),
    rfc: { section: 'RFC 7208 4.3 and RFC 4343: domain names do not care about case', ours: 'pass', mailauth: 'permerror' },
  },
  'redirect with %{d}': at('redir-macro.test'),
  'empty redirect: permerror': at('redir-empty.test'),
  'redirect: timeout': at('redir-timeout.test'),
  'include loop: lookup limit': at('loop.test'),
  'redirect loop: lookup limit': at('redir-loop.test'),
  'ten lookups are allowed': at('ten.test'),
  'eleven lookups: permerror': at('eleven.test'),
  'nine includes and a match': at('ten-inc.test'),
  'unknown mechanism: permerror': at('unknown-mech.test'),
  'unknown mechanism after a match: permerror': at('unknown-late.test'),
  'bad ip4 address: permerror': at('bad-ip.test'),
  'bad ip4 after a match: not reached': at('bad-ip-late.test'),
  'ip4 /33: permerror': at('cidr33.test'),
  'ip4 /024: permerror': at('cidr-zero.test'),
  'ip4 with an IPv6 length: permerror': at('cidr6-on-4.test'),
  'ip6 /129: permerror': at('ip6-cidr129.test', V6),
  'all with a value: permerror': at('all-ext.test'),
  'a: with nothing after it: permerror': at('empty-value.test'),
  'ip4 without an address: permerror': at('bare-ip4.test'),
  'modifier name not starting with a letter: permerror': at('bad-mod.test'),
  'empty exp: permerror': at('empty-exp.test'),
  'exp is parsed and ignored': at('exp.test'),
  'unknown modifier ignored': at('unknown-mod.test'),
  'unknown macro letter: permerror': at('bad-macro.test'),
  'lone %: permerror': at('lone-pct.test'),
  'two records: permerror': at('multi.test'),
  'one record among other TXT, in two strings': at('one-of-many.test'),
  'v=spf10 is no record': at('spf10.test'),
  'no SPF record: none': at('nospf.test'),
  'no such domain: none': at('nothing.test'),
  'non-printable character: permerror': at('noprint.test'),
  'V=SPF1 in upper case': at('case-v.test'),
  'extra spaces': at('spaces.test'),
  'TXT timeout: temperror': at('timeout.test'),
  'TXT refused: temperror': at('refused.test'),
  'TXT SERVFAIL: temperror': at('servfail.test'),
  'macros %{ir} %{v} %{d2}': at('macros.test'),
  'macros %{l1r-} %{o}': { sender: 'x-alice@macro-l.test', ip: V4 },
  'macro %{s}': at('macro-s.test'),
  'macro %{h}': { ...at('macro-h.test'), helo: 'mail.sender.test' },
  'macro %{h} another HELO': { ...at('macro-h.test'), helo: 'other.sender.test' },
  'macro %{c} IPv4': at('macro-c.test'),
  'macro %{ir} %{v} IPv6': at('macro-i6.test', V6),
  'macro %{r}': at('macro-r.test'),
  'macro %{t}': at('macro-t.test'),
  'macro %- %% %_': at('macro-pct.test'),
  'macro delimiter + and count': { sender: 'a+b+c@macro-delim.test', ip: V4 },
  'upper-case macro is URL-escaped': {
    sender: 'a+b@macro-upper.test',
    ip: V4,
    rfc: { section: 'RFC 7208 7.3: upper-case macros are URL-escaped', ours: 'pass', mailauth: 'fail' },
  },
  'macro %{p}': {
    ...at('macro-p.test'),
    rfc: { section: 'RFC 7208 7.3: p is the validated domain name of the client', ours: 'pass', mailauth: 'fail' },
  },
  'redirect with %{l}': at('macro-redir.test'),
  'a with %{l}': at('macro-a.test'),
  'an expanded name over 253 characters loses labels from the left': {
    sender: `${LONG}@macro-long.test`,
    ip: V4,
    rfc: { section: 'RFC 7208 4.8: the expanded name is truncated from the left to 253 characters', ours: 'pass', mailauth: 'fail' },
  },
  'IPv4-mapped client is IPv4': at('pass.test', '::ffff:192.0.2.10'),
  'IPv4-mapped client, fail': at('fail.test', '::FFFF:192.0.2.10'),
  'IPv6 client against an IPv4 record': at('pass.test', V6),
  'empty sender: postmaster@HELO': { sender: '', ip: V4, helo: 'pass.test' },
  'empty sender and HELO': { sender: '', ip: V4, helo: '' },
  'sender without a local part': { sender: '@pass.test', ip: V4 },
  'sender without @': { sender: 'pass.test', ip: V4 },
  'upper-case sender domain': { sender: 'Alice@PASS.TEST', ip: V4 },
  'sender domain ending in a dot: none': { sender: 'alice@pass.test.', ip: V4 },
  'single-label sender domain: none': { sender: 'alice@localhost', ip: V4 },
  'underscore in the sender domain: none': { sender: 'alice@ex_ample.test', ip: V4 },
  'numeric top label: none': { sender: 'alice@example.123', ip: V4 },
  'no client address: neutral': { sender: 'alice@pass.test', ip: '' },
  'HELO an address literal': { sender: 'alice@fail.test', ip: V4, helo: '[192.0.2.10]' },
  'sender with specials in the local part': { sender: '"a b"@fail.test', ip: V4, helo: 'mail.sender.test' },
};

test(`${Object.keys(cases).length} cases: our check_host() says what mailauth's spf() says (or what the RFC says where it departs)`, async (t) => {
  const realNow = Date.now;
  Date.now = () => NOW;
  t.after(() => (Date.now = realNow));
  const differing: string[] = [];
  for (const [name, c] of Object.entries(cases)) {
    const question = { sender: c.sender, ip: c.ip ?? V4, helo: c.helo ?? '' };
    const theirs = await spf({ ...question, mta: RECEIVER, resolver: resolve });
    const { outcome } = await evaluateSpf(question, { receiver: RECEIVER, resolve });
    if (c.rfc) {
      const answers = { ours: outcome.status.result, mailauth: theirs.status.result };
      if (answers.ours !== c.rfc.ours || answers.mailauth !== c.rfc.mailauth)
        differing.push(`${name} (${c.rfc.section}):\n  ours     ${outcome.status.comment}\n  mailauth ${theirs.status.comment}`);
      continue;
    }
    const mine = { domain: outcome.domain, result: outcome.status.result, comment: outcome.status.comment, info: outcome.info };
    const expected = { domain: theirs.domain, result: theirs.status.result, comment: theirs.status.comment, info: theirs.info };
    if (JSON.stringify(mine) !== JSON.stringify(expected))
      differing.push(`${name}:\n  ours     ${JSON.stringify(mine)}\n  mailauth ${JSON.stringify(expected)}`);
  }
  assert.deepEqual(differing, []);
});

test('the cases cover every result', async () => {
  const seen = new Set<string>();
  for (const c of Object.values(cases)) {
    const { outcome } = await evaluateSpf({ sender: c.sender, ip: c.ip ?? V4, helo: c.helo ?? '' }, { receiver: RECEIVER, resolve });
    seen.add(outcome.status.result);
  }
  assert.deepEqual([...seen].sort(), ['fail', 'neutral', 'none', 'pass', 'permerror', 'softfail', 'temperror']);
});

test('a macro with the local part, the sender, the HELO or the time is told as per-sender; the domain, address and receiver are not', async () => {
  const perSender = async (c: Case) => (await evaluateSpf({ sender: c.sender, ip: c.ip ?? V4, helo: c.helo ?? '' }, { receiver: RECEIVER, resolve })).perSender;
  assert.equal(await perSender(cases['exists with %{l}: bob']!), true);
  assert.equal(await perSender(cases['macro %{s}']!), true);
  assert.equal(await perSender(cases['macro %{h}']!), true);
  assert.equal(await perSender(cases['redirect with %{l}']!), true);
  assert.equal(await perSender(cases['macros %{ir} %{v} %{d2}']!), false);
  assert.equal(await perSender(cases['macro %{c} IPv4']!), false);
  assert.equal(await perSender(cases['macro %{r}']!), false);
  assert.equal(await perSender(cases['include: pass']!), false);
  assert.equal(await perSender(cases['ip4 network: pass']!), false);
});
