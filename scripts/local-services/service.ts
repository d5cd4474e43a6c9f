/** What `services:status` reports about one local service. */
export type ServiceState =
  | { kind: 'ours'; pid: number; endpoint: string }
  | { kind: 'external'; endpoint: string }
  | { kind: 'stopped'; endpoint: string };

/** Kafka or ClickHouse, as run from the project's `.local/` folder. */
export interface LocalService {
  name: string;
  state(): Promise<ServiceState>;
  /** Starts the service and waits until it answers; returns its PID. */
  start(): Promise<number>;
  /** Brings a server this project started earlier up to date with what start() would configure. */
  update?(): Promise<void>;
  /** For log and status lines: what runs (its version), or for a stopped service what start() would run. */
  describe?(state: ServiceState): Promise<string>;
  stop(): Promise<void>;
}
