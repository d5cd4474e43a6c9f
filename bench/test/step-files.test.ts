import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StepFiles } from '../src/step-files.js';

test('logs and profiles of a step are named by its tag and the process', () => {
  const files = new StepFiles('/logs', 'step1-5000', ['producer']);
  assert.equal(files.log('sim'), '/logs/step1-5000-sim.log');
  assert.equal(files.profileDir('producer'), '/logs/step1-5000-producer-profile');
});

test('only the processes asked for run under --cpu-prof, each in its own folder', () => {
  const files = new StepFiles('/logs', 'step1-5000', ['producer', 'aggregator']);
  assert.deepEqual(files.nodeArgs('producer'), ['--cpu-prof', '--cpu-prof-dir=/logs/step1-5000-producer-profile']);
  assert.deepEqual(files.nodeArgs('sim'), []);
  // The catch-up aggregator is profiled when the aggregator is, into a folder of its own.
  assert.deepEqual(files.nodeArgs('aggregator-catchup', 'aggregator'), [
    '--cpu-prof',
    '--cpu-prof-dir=/logs/step1-5000-aggregator-catchup-profile',
  ]);
  assert.deepEqual(new StepFiles('/logs', 'step1-5000', []).nodeArgs('aggregator-catchup', 'aggregator'), []);
});

test('no profile folder: no summaries', () => {
  assert.deepEqual(new StepFiles('/nonexistent', 'step1', ['sim']).profiles('/', ['sim', 'producer']), []);
});
