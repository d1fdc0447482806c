import {
  AuthenticationError,
  MultipleErrors,
  NetworkError,
  ProtocolError,
  UserError,
} from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import {
  isRetriableKafkaError,
  securityFailure,
  toKbackupError,
} from '../../../src/adapters/platformatic/errors.js';
import { KbackupError } from '../../../src/core/errors.js';
import { ExitCode } from '../../../src/core/exit-codes.js';

/**
 * The shapes below are what @platformatic/kafka 2.12 throws against a real secured broker (recorded with
 * tests/support/secured-broker.ts): the useful part sits two or three causes deep inside a retriable
 * NetworkError, inside "Cannot connect to any broker".
 */
const connectFailure = (cause: Error): MultipleErrors =>
  new MultipleErrors('Cannot connect to any broker.', [
    new NetworkError('Connection to 127.0.0.1:9093 failed.', { cause }),
  ]);

const wrongPassword = (): MultipleErrors =>
  connectFailure(
    new AuthenticationError('SASL authentication failed.', {
      cause: new MultipleErrors('Received response with error while executing API SaslAuthenticate(v2)', [
        new ProtocolError(
          'SASL_AUTHENTICATION_FAILED',
          'Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512',
        ),
      ]),
    }),
  );

const tlsError = (code: string, message: string): Error => Object.assign(new Error(message), { code });

describe('authentication and TLS failures', () => {
  it('turn a refused SASL login into a non-retriable AUTHENTICATION error (exit 7) with the broker’s words', () => {
    const error = wrongPassword();
    expect(isRetriableKafkaError(error)).toBe(false);
    const mapped = toKbackupError(error, 'reading cluster metadata');
    expect(mapped).toMatchObject({ code: 'AUTHENTICATION', exitCode: ExitCode.Config, canRetry: false });
    expect(mapped.message).toBe(
      'reading cluster metadata: SASL authentication failed (Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512)',
    );
    expect(mapped.hint).toContain('--sasl-password-env');
  });

  it('name the cause of an unsupported mechanism and of SASL on a plaintext listener', () => {
    const handshake = (apiId: string): MultipleErrors =>
      connectFailure(
        new AuthenticationError('Cannot find a suitable SASL mechanism.', {
          cause: new MultipleErrors('SaslHandshake failed', [new ProtocolError(apiId)]),
        }),
      );
    expect(securityFailure(handshake('UNSUPPORTED_SASL_MECHANISM'))?.hint).toContain('--sasl-mechanism');
    expect(securityFailure(handshake('ILLEGAL_SASL_STATE'))?.hint).toContain('does not use SASL');
  });

  it('report an untrusted broker certificate as such', () => {
    const error = connectFailure(
      tlsError('SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain'),
    );
    expect(isRetriableKafkaError(error)).toBe(false);
    const mapped = toKbackupError(error, 'listing topics');
    expect(mapped.code).toBe('AUTHENTICATION');
    expect(mapped.message).toBe(
      'listing topics: TLS authentication of the broker failed: its certificate is not trusted (self-signed certificate in certificate chain)',
    );
    expect(mapped.hint).toContain('--tls-ca-file');
    expect(
      securityFailure(connectFailure(tlsError('ERR_TLS_CERT_ALTNAME_INVALID', 'altname'))),
    ).toBeDefined();
  });

  it('tell plaintext-to-TLS and TLS-to-plaintext mismatches apart', () => {
    expect(securityFailure(new UserError('Broker requires TLS.'))).toMatchObject({
      message: 'the listener requires TLS, and the connection did not use it',
    });
    const handshake = connectFailure(
      new UserError('TLS handshake failed. Please verify the broker supports TLS.', {
        cause: tlsError('ECONNRESET', 'Client network socket disconnected before secure TLS connection'),
      }),
    );
    expect(securityFailure(handshake)?.message).toBe(
      'TLS handshake failed (the listener does not appear to speak TLS)',
    );
  });

  it('leave ordinary network failures retriable connection errors', () => {
    const refused = connectFailure(tlsError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:9093'));
    expect(securityFailure(refused)).toBeUndefined();
    expect(isRetriableKafkaError(refused)).toBe(true);
    expect(toKbackupError(refused, 'listing topics')).toMatchObject({
      code: 'CONNECTION',
      exitCode: ExitCode.Connection,
    });
  });
});

describe('isRetriableKafkaError on kbackup errors', () => {
  it('retries the adapter’s transient KAFKA_RETRIABLE (a partition without a leader), nothing else', () => {
    expect(isRetriableKafkaError(new KbackupError('KAFKA_RETRIABLE', 'partition t-0 has no leader'))).toBe(
      true,
    );
    expect(isRetriableKafkaError(new KbackupError('KAFKA', 'corrupt batch'))).toBe(false);
    expect(isRetriableKafkaError(new KbackupError('INTERNAL', 'two produce calls at once'))).toBe(false);
  });
});
