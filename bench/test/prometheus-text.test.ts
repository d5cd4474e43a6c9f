import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sumSamples } from '../src/prometheus-text.js';

const text = `# HELP aggregator_messages_total Kafka messages processed, per topic
# TYPE aggregator_messages_total counter
aggregator_messages_total{topic="trades",service="aggregator"} 1200
aggregator_messages_total{topic="depth",service="aggregator"} 34
aggregator_messages_total_extra 99
aggregator_consumer_paused{service="aggregator"} 0
producer_dropped_messages_total 7
`;

test('sums every sample of a metric, or those with the given labels', () => {
  assert.equal(sumSamples(text, 'aggregator_messages_total'), 1234);
  assert.equal(sumSamples(text, 'aggregator_messages_total', { topic: 'depth' }), 34);
  assert.equal(sumSamples(text, 'producer_dropped_messages_total'), 7);
  assert.equal(sumSamples(text, 'aggregator_consumer_paused'), 0);
  assert.equal(sumSamples(text, 'no_such_metric'), 0);
});
