import type { Admin } from 'kafkajs';

/** Messages ever written to a topic (sum of the partitions' high watermarks). */
export async function topicEnd(admin: Admin, topic: string): Promise<number> {
  const partitions = await admin.fetchTopicOffsets(topic);
  return partitions.reduce((sum, p) => sum + Number(p.high), 0);
}

/** Messages a consumer group has committed on a topic (partitions without a commit count 0). */
export async function groupCommitted(admin: Admin, groupId: string, topic: string): Promise<number> {
  const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return (offsets?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
}

/** Commits offset 0 on every partition for a group with no members, so its first consumer starts at the beginning. */
export async function commitStart(admin: Admin, groupId: string, topic: string): Promise<void> {
  const partitions = await admin.fetchTopicOffsets(topic);
  await admin.setOffsets({
    groupId,
    topic,
    partitions: partitions.map((p) => ({ partition: p.partition, offset: '0' })),
  });
}
