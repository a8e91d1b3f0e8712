import { describe, expect, it } from 'vitest';
import { AgentflowError, ConnectionError, isConnectionLoss, translateError } from '../../src/errors/index.ts';

describe('ConnectionError', () => {
  it('is a retryable AgentflowError with a stable code that keeps its cause', () => {
    const cause = Object.assign(new Error('write CONNECTION_CLOSED 127.0.0.1:5432'), {
      code: 'CONNECTION_CLOSED',
    });
    const error = new ConnectionError('lost', { cause, commitOutcomeUnknown: true });
    expect(error).toBeInstanceOf(AgentflowError);
    expect(error).toMatchObject({
      code: 'connection_lost',
      retryable: true,
      commitOutcomeUnknown: true,
      cause,
    });
    expect(new ConnectionError('lost').commitOutcomeUnknown).toBe(false);
    // Domain translation passes it through untouched.
    expect(translateError(error)).toBe(error);
  });

  it('is what a closed, reset, refused or server-ended connection means, not a failed statement', () => {
    const withCode = (code: string) => Object.assign(new Error(code), { code });
    for (const code of [
      'CONNECTION_CLOSED',
      'CONNECT_TIMEOUT',
      'ECONNRESET',
      'ECONNREFUSED',
      'EPIPE',
      '57P01',
      '08006',
    ])
      expect(isConnectionLoss(withCode(code)), code).toBe(true);
    // A protocol violation (a start-up parameter PgBouncer refuses), a released reservation, SQL errors.
    for (const code of ['08P01', 'RESERVATION_RELEASED', 'CONNECTION_ENDED', '23505', '40001'])
      expect(isConnectionLoss(withCode(code)), code).toBe(false);
    expect(isConnectionLoss(new Error('no code'))).toBe(false);
    expect(isConnectionLoss(undefined)).toBe(false);
  });
});
