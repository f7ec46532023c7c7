// Which errors mean "the shared database is down or out of reach" (the viewer's 503) and which are
// a query's own fault (a 500, a bug to look into).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DatabaseUnreachableError } from '../../../runtime/storage/connect-backoff.js';
import { isDatabaseUnavailable } from '../../../runtime/storage/unavailable.js';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

test('refused and cut connections, and a server shutting down or starting, are an outage', () => {
  for (const err of [
    withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'),
    withCode('terminating connection due to administrator command', '57P01'),
    withCode('the database system is starting up', '57P03'),
    withCode('could not receive data from client', '08006'),
    withCode('sorry, too many clients already', '53300'),
    new Error('Connection terminated unexpectedly'),
    new Error('timeout exceeded when trying to connect'),
    new Error('timeout expired'),
    new DatabaseUnreachableError('shared database unreachable (last try 3 s ago timed out after 10 s; next try in 2 s)'),
    new AggregateError([withCode('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED')], 'connect failed'),
  ])
    assert.equal(isDatabaseUnavailable(err), true, err.message);
});

test('a query the database refused, or anything else, is not', () => {
  for (const err of [
    withCode('duplicate key value violates unique constraint "messages_pkey"', '23505'),
    withCode('relation "messages" does not exist', '42P01'),
    new TypeError("Cannot read properties of undefined (reading 'id')"),
    'a string',
  ])
    assert.equal(isDatabaseUnavailable(err), false, String(err));
});
