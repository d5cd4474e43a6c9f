import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { ClickHouseError, ClickHouseLogLevel, createClient, parseError } from '@clickhouse/client';
import kafkajs from 'kafkajs';
import {
  classifyClickhouseError,
  classifyKafkaError,
  type ClassifiedError,
} from '@candleflow/common/error-classification';
import { clickhouseErrorBodies, clientFailures } from './fixtures/clickhouse-error-bodies.js';

const { Kafka, KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded, logLevel } = kafkajs;
type KafkaJSProtocolError = InstanceType<typeof kafkajs.KafkaJSProtocolError>;
// KafkaJS's own factory for the error a broker's error code becomes (not in its typed exports).
const { createErrorFromCode } = createRequire(import.meta.url)('kafkajs/src/protocol/error.js') as {
  createErrorFromCode: (code: number) => KafkaJSProtocolError;
};

const quiet = { level: ClickHouseLogLevel.OFF };

function assertSummary(summary: string, code?: number): void {
  assert.ok(summary.length > 0 && summary.length <= 300, `summary length ${summary.length}: ${summary}`);
  assert.doesNotMatch(summary, /\n/);
  assert.doesNotMatch(summary, /e\.what\(\)/);
  assert.doesNotMatch(summary, /\(version /);
  if (code !== undefined) assert.ok(summary.startsWith(`Code: ${code}`), summary);
}

/** A port nothing listens on: one that was free a moment ago. */
async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function listen(handler: http.RequestListener): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

test('every recorded ClickHouse error body, parsed by the client, classifies to its kind and code', async (t) => {
  for (const fixture of clickhouseErrorBodies) {
    await t.test(`${fixture.server} ${fixture.case}`, () => {
      const error = parseError(fixture.body);
      if (fixture.server.startsWith('18.')) {
        // 18.16's "Code: N, e.displayText() = ..." is no ClickHouseError to the client: the body is the message.
        assert.equal(error.constructor, Error);
        assert.equal(error.message, fixture.body);
      } else {
        assert.ok(error instanceof ClickHouseError, `not parsed: ${fixture.body}`);
        assert.equal(error.code, String(fixture.code));
        assert.match(error.type ?? '', /^[A-Z_]+$/);
      }
      const classified = classifyClickhouseError(error);
      assert.equal(classified.kind, fixture.kind, classified.summary);
      assert.equal(classified.code, fixture.code);
      assertSummary(classified.summary, fixture.code);
    });
  }
});

test('the client, answered these bodies over HTTP, throws what parseError makes of them', async () => {
  let current = clickhouseErrorBodies[0];
  const server = await listen((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(500, {
        'Content-Type': 'text/plain; charset=UTF-8',
        'X-ClickHouse-Exception-Code': String(current?.code),
      });
      response.end(current?.body);
    });
  });
  const client = createClient({ url: server.url, log: quiet });
  try {
    for (const fixture of clickhouseErrorBodies) {
      current = fixture;
      const thrown = await client.query({ query: 'SELECT 1', format: 'JSONEachRow' }).then(
        () => assert.fail(`${fixture.case}: no error`),
        (error: unknown) => error,
      );
      const parsed = parseError(fixture.body);
      assert.ok(thrown instanceof Error);
      assert.equal(thrown.constructor, parsed.constructor, fixture.case);
      assert.equal(thrown.message, parsed.message, fixture.case);
      assert.deepEqual(classifyClickhouseError(thrown), classifyClickhouseError(parsed));
    }
  } finally {
    await client.close();
    await server.close();
  }
});

test('a modern body handed over unparsed still gives its code, kind and a one-line summary', () => {
  for (const fixture of clickhouseErrorBodies.filter((f) => !f.server.startsWith('18.'))) {
    const classified = classifyClickhouseError(new Error(fixture.body));
    assert.equal(classified.kind, fixture.kind, fixture.case);
    assert.equal(classified.code, fixture.code, fixture.case);
    assertSummary(classified.summary, fixture.code);
  }
});

test('the client timing out, as recorded and for real, is unavailable', async () => {
  assert.equal(classifyClickhouseError(new Error(clientFailures.timeout.message)).kind, 'unavailable');

  const silent = await listen(() => {}); // accepts, never answers
  const client = createClient({ url: silent.url, request_timeout: 200, log: quiet });
  try {
    const error = await client.query({ query: 'SELECT 1' }).then(
      () => assert.fail('no timeout'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof Error);
    assert.equal(error.message, clientFailures.timeout.message);
    assert.deepEqual(classifyClickhouseError(error), { kind: 'unavailable', summary: 'Timeout error.' });
  } finally {
    await client.close();
    await silent.close();
  }
});

test('a refused connection, as recorded and for real, is unavailable', async () => {
  const { message, ...fields } = clientFailures.connectionRefused;
  const recorded = classifyClickhouseError(Object.assign(new Error(message), fields));
  assert.deepEqual(recorded, { kind: 'unavailable', summary: message });

  const client = createClient({ url: `http://127.0.0.1:${await closedPort()}`, log: quiet });
  try {
    const error = await client.query({ query: 'SELECT 1' }).then(
      () => assert.fail('connected'),
      (e: unknown) => e,
    );
    assert.equal((error as NodeJS.ErrnoException).code, 'ECONNREFUSED');
    const classified = classifyClickhouseError(error);
    assert.equal(classified.kind, 'unavailable');
    assert.match(classified.summary, /ECONNREFUSED/);
    assertSummary(classified.summary);
  } finally {
    await client.close();
  }
});

test('KafkaJS: the broker refusing the records is data, bare or wrapped by the retrier', () => {
  const expectData = (error: Error, type: string): void => {
    const classified: ClassifiedError = classifyKafkaError(error);
    assert.equal(classified.kind, 'data', `${type}: ${classified.summary}`);
    assert.equal(classified.code, undefined);
    assertSummary(classified.summary);
  };
  // As producer.send() threw it against the local broker for a 3 MiB message: not retriable, not wrapped.
  const tooLarge = createErrorFromCode(10);
  assert.equal(tooLarge.type, 'MESSAGE_TOO_LARGE');
  assert.equal(tooLarge.retriable, false);
  expectData(tooLarge, 'MESSAGE_TOO_LARGE');
  expectData(new KafkaJSNumberOfRetriesExceeded(tooLarge, { retryCount: 5, retryTime: 1000 }), 'MESSAGE_TOO_LARGE');
  // CORRUPT_MESSAGE is retriable to KafkaJS, so the producer gives it up wrapped.
  const corrupt = createErrorFromCode(2);
  assert.equal(corrupt.type, 'CORRUPT_MESSAGE');
  expectData(new KafkaJSNumberOfRetriesExceeded(corrupt, { retryCount: 5, retryTime: 1000 }), 'CORRUPT_MESSAGE');
  for (const code of [18, 32, 87]) expectData(createErrorFromCode(code), createErrorFromCode(code).type);
});

test('KafkaJS: leadership and connection trouble is unavailable', async () => {
  const notLeader = createErrorFromCode(6);
  assert.equal(notLeader.type, 'NOT_LEADER_FOR_PARTITION');
  assert.equal(
    classifyKafkaError(new KafkaJSNumberOfRetriesExceeded(notLeader, { retryCount: 5, retryTime: 1000 })).kind,
    'unavailable',
  );

  // As recorded: producer.connect() to a closed port.
  const connectionError = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:46075', {
    broker: '127.0.0.1:46075',
    code: 'ECONNREFUSED',
  });
  assert.equal(
    classifyKafkaError(new KafkaJSNumberOfRetriesExceeded(connectionError, { retryCount: 1, retryTime: 100 })).kind,
    'unavailable',
  );

  // And for real.
  const kafka = new Kafka({
    clientId: 'error-classification-test',
    brokers: [`127.0.0.1:${await closedPort()}`],
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  });
  const producer = kafka.producer();
  const error = await producer.connect().then(
    () => assert.fail('connected'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof KafkaJSNumberOfRetriesExceeded);
  assert.ok(error.cause instanceof KafkaJSConnectionError);
  const classified = classifyKafkaError(error);
  assert.equal(classified.kind, 'unavailable');
  assert.match(classified.summary, /ECONNREFUSED/);
  assertSummary(classified.summary);
});
