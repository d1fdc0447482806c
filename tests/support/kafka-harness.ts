import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planCds, type CdsPlan } from './cds.js';
import {
  loggingConfig,
  serverProperties,
  type ExtraListener,
  type NodePorts,
  type SecurityProtocol,
} from './broker-config.js';
import {
  JavaProcess,
  fileSize,
  keepTempRoot,
  readFrom,
  registerTempRoot,
  releaseTempRoot,
  runJavaTool,
  tail,
  type StopSignal,
} from './java-process.js';
import { getMetadata } from './kafka-helpers.js';
import { defaultKafkaVersion, freePorts, resolveKafkaLibs } from './kafka-install.js';
import { ProxyGroup, TcpProxy } from './tcp-proxy.js';
import { PollAbort, pollUntil } from './wait.js';

export type { StopSignal } from './java-process.js';
export { ProxyGroup, TcpProxy } from './tcp-proxy.js';
export { defaultKafkaVersion, resolveKafkaLibs } from './kafka-install.js';

const READY_LINE = 'Kafka Server started';

export interface StartClusterOptions {
  nodes?: 1 | 3;
  /** Kafka version; defaults to env KBACKUP_KAFKA_VERSION, else 4.1.2. */
  version?: string;
  /** server.properties overrides, applied last (e.g. log.cleaner.backoff.ms for compaction tests). */
  brokerConfig?: Record<string, string>;
  /** Put a fault-injecting TCP proxy between clients and each broker (see `proxies`). */
  proxied?: boolean;
  /** Appears in the temporary directory name, to tell kept logs apart. */
  name?: string;
  /** Per-node JVM max heap; 512 MiB for one node, 384 MiB each for three. */
  heapMb?: number;
  startTimeoutMs?: number;
  /**
   * Client listeners beside PLAINTEXT, each on its own port (see KafkaNode.listenerPorts). Their settings
   * (TLS stores, SASL mechanisms) go in brokerConfig. Not with `proxied`. Used by startSecuredBroker().
   */
  extraListeners?: { name: string; protocol: SecurityProtocol }[];
  /** Extra `kafka-storage format` arguments, e.g. `--add-scram` to create SCRAM users before the start. */
  formatArgs?: string[];
}

export interface KafkaNode {
  nodeId: number;
  /** The port clients use (the proxy's port in proxy mode). */
  port: number;
  /** The port the broker's client listener binds. */
  brokerPort: number;
  controllerPort: number;
  /** Port of each extra listener, by listener name (empty without `extraListeners`). */
  listenerPorts: Readonly<Record<string, number>>;
  dir: string;
  logFile: string;
  /** Pid of the current JVM (changes on restart; -1 before the first start). */
  pid: number;
  running: boolean;
  /** Stopped with SIGSTOP by pauseNode(). */
  paused: boolean;
}

export type LeaderCondition = { not: number } | ((leader: number) => boolean);

export interface KafkaCluster {
  readonly version: string;
  /** "127.0.0.1:p1,127.0.0.1:p2,..." (proxy ports in proxy mode). */
  readonly bootstrap: string;
  readonly nodes: readonly KafkaNode[];
  /** Fault controls; present only when started with `proxied: true`. */
  readonly proxies: ProxyGroup | undefined;
  killNode(nodeId: number, signal?: StopSignal): Promise<void>;
  /** SIGSTOPs the node's JVM and resolves once all its threads are stopped. */
  pauseNode(nodeId: number): Promise<void>;
  resumeNode(nodeId: number): void;
  /** Starts a stopped node again (or stops a running one first) with the same dirs and ports. */
  restartNode(nodeId: number): Promise<void>;
  /** Current leader of a partition from fresh metadata; -1 when there is none. */
  leaderOf(topic: string, partition: number): Promise<number>;
  /** Polls until the partition has a leader that satisfies `condition`; returns it. */
  waitForLeader(
    topic: string,
    partition: number,
    condition?: LeaderCondition,
    timeoutMs?: number,
  ): Promise<number>;
  /** Polls until the partition's ISR has `size` members. */
  waitForIsr(topic: string, partition: number, size: number, timeoutMs?: number): Promise<void>;
  /** Kills every broker, closes proxies and deletes the directories unless keepLogs() was called. */
  stop(): Promise<void>;
  /** Keeps the directories (logs, data) after stop() and process exit, and prints where they are. */
  keepLogs(): void;
}

/** 16 random bytes, base64url without padding, never starting with '-' (StorageTool would read an option). */
function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

interface NodeState extends KafkaNode {
  ports: NodePorts;
  propsFile: string;
  jvmArgs: string[];
  process: JavaProcess | undefined;
}

class Cluster implements KafkaCluster {
  readonly bootstrap: string;
  #stopped = false;

  constructor(
    readonly version: string,
    readonly root: string,
    readonly nodes: NodeState[],
    readonly proxies: ProxyGroup | undefined,
    private readonly startTimeoutMs: number,
    private readonly cds: CdsPlan,
  ) {
    this.bootstrap = nodes.map((n) => `127.0.0.1:${n.port}`).join(',');
  }

  /** Bootstrap through nodes that can answer now, so a killed or paused node does not stall the harness. */
  #liveBootstrap(): string {
    const live = this.nodes.filter((n) => n.running && !n.paused);
    return (live.length > 0 ? live : this.nodes).map((n) => `127.0.0.1:${n.port}`).join(',');
  }

  #node(nodeId: number): NodeState {
    const node = this.nodes.find((n) => n.nodeId === nodeId);
    if (!node) throw new Error(`no node ${nodeId} (nodes: ${this.nodes.map((n) => n.nodeId).join(', ')})`);
    return node;
  }

  #diagnostics(node: NodeState): string {
    return (
      `--- node ${node.nodeId} log tail (${node.logFile}) ---\n${tail(node.logFile)}\n` +
      `--- node ${node.nodeId} stdout/stderr ---\n${tail(join(node.dir, 'stdout.log'), 15)}`
    );
  }

  /** Spawns the node's JVM and waits for its "Kafka Server started" line. */
  async startNode(node: NodeState): Promise<void> {
    const logStart = fileSize(node.logFile);
    const proc = await JavaProcess.start(node.jvmArgs, join(node.dir, 'stdout.log'), join(node.dir, 'pid'));
    node.process = proc;
    node.pid = proc.pid;
    node.running = true;
    node.paused = false;
    void proc.exited.then(() => {
      if (node.process === proc) node.running = false;
    });
    await pollUntil(
      () => {
        if (!proc.running) {
          throw new PollAbort(`Kafka node ${node.nodeId} exited during startup\n${this.#diagnostics(node)}`);
        }
        return readFrom(node.logFile, logStart).includes(READY_LINE);
      },
      {
        timeoutMs: this.startTimeoutMs,
        description: `Kafka ${this.version} node ${node.nodeId} to log "${READY_LINE}"`,
        onTimeout: () => this.#diagnostics(node),
      },
    );
  }

  /** Waits until metadata lists every running node as a registered broker. */
  async waitForRegistration(): Promise<void> {
    const expected = this.nodes.filter((n) => n.running).map((n) => n.nodeId);
    await pollUntil(
      async () => {
        const metadata = await getMetadata(this.#liveBootstrap());
        return expected.every((id) => metadata.brokers.has(id));
      },
      {
        timeoutMs: this.startTimeoutMs,
        description: `brokers ${expected.join(', ')} to register (metadata)`,
        onTimeout: () => this.nodes.map((n) => this.#diagnostics(n)).join('\n'),
      },
    );
  }

  async killNode(nodeId: number, signal: StopSignal = 'SIGKILL'): Promise<void> {
    const node = this.#node(nodeId);
    await node.process?.stop(signal);
    node.running = false;
    node.paused = false;
  }

  async pauseNode(nodeId: number): Promise<void> {
    const node = this.#node(nodeId);
    await node.process?.pause();
    node.paused = true;
  }

  resumeNode(nodeId: number): void {
    const node = this.#node(nodeId);
    node.process?.signal('SIGCONT');
    node.paused = false;
  }

  async restartNode(nodeId: number): Promise<void> {
    const node = this.#node(nodeId);
    if (node.process?.running) await node.process.stop('SIGTERM');
    await this.startNode(node);
    await this.waitForRegistration();
  }

  async leaderOf(topic: string, partition: number): Promise<number> {
    const metadata = await getMetadata(this.#liveBootstrap(), [topic]);
    return metadata.topics.get(topic)?.partitions[partition]?.leader ?? -1;
  }

  async waitForLeader(
    topic: string,
    partition: number,
    condition: LeaderCondition = () => true,
    timeoutMs = 60_000,
  ): Promise<number> {
    const accept = typeof condition === 'function' ? condition : (leader: number) => leader !== condition.not;
    return pollUntil(
      async () => {
        const leader = await this.leaderOf(topic, partition);
        return leader >= 0 && accept(leader) ? leader : undefined;
      },
      { timeoutMs, description: `a leader for ${topic}/${partition} matching the condition` },
    );
  }

  async waitForIsr(topic: string, partition: number, size: number, timeoutMs = 60_000): Promise<void> {
    await pollUntil(
      async () => {
        const metadata = await getMetadata(this.#liveBootstrap(), [topic]);
        return metadata.topics.get(topic)?.partitions[partition]?.isr.length === size;
      },
      { timeoutMs, description: `ISR of ${topic}/${partition} to reach ${size} replicas` },
    );
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.cds.training && this.nodes.every((n) => n.running)) {
      // Only a normal JVM exit writes the CDS archive (one node, so shutdown needs no quorum).
      await Promise.all(this.nodes.map((n) => n.process?.stop('SIGTERM', 20_000) ?? Promise.resolve()));
      this.cds.commit();
    }
    await Promise.all(this.nodes.map((n) => n.process?.stop('SIGKILL') ?? Promise.resolve()));
    for (const n of this.nodes) n.running = false;
    await this.proxies?.close();
    releaseTempRoot(this.root);
  }

  keepLogs(): void {
    keepTempRoot(this.root);
    console.log(`kafka-harness: keeping ${this.root}\n${this.nodes.map((n) => `  ${n.logFile}`).join('\n')}`);
  }
}

/** Starts a KRaft cluster of real brokers (combined broker + controller nodes) as local JVM processes. */
export async function startCluster(options: StartClusterOptions = {}): Promise<KafkaCluster> {
  const version = options.version ?? defaultKafkaVersion();
  const size = options.nodes ?? 1;
  const proxied = options.proxied ?? false;
  const extraListeners = options.extraListeners ?? [];
  if (proxied && extraListeners.length > 0) throw new Error('extraListeners cannot be combined with proxied');
  const libs = await resolveKafkaLibs(version);
  const classPath = `${libs}/*`;
  const label = (options.name ?? 'cluster').replace(/[^a-zA-Z0-9_.-]/g, '_');
  const root = mkdtempSync(join(tmpdir(), `kbackup-kafka-${label}-`));
  registerTempRoot(root);

  const proxyByNode = new Map<number, TcpProxy>();
  let cluster: Cluster | undefined;
  try {
    const perNode = (proxied ? 3 : 2) + extraListeners.length;
    const ports = await freePorts(size * perNode);
    const portsOf = (i: number): NodePorts => {
      const [listen, controller, ...more] = ports.slice(i * perNode, (i + 1) * perNode);
      if (listen === undefined || controller === undefined) throw new Error('port allocation failed');
      const extra: ExtraListener[] = extraListeners.map((l, j) => {
        const port = more[j];
        if (port === undefined) throw new Error('port allocation failed');
        return { ...l, port };
      });
      return {
        nodeId: i + 1,
        listenPort: listen,
        advertisedPort: listen,
        controllerPort: controller,
        internalPort: proxied ? more[0] : undefined,
        extraListeners: extra,
      };
    };
    const voters = Array.from({ length: size }, (_, i) => portsOf(i));
    if (proxied) {
      // Proxies first: each broker must advertise its proxy's port, and readiness checks go through it.
      for (const v of voters) {
        const proxy = await TcpProxy.start(v.listenPort);
        proxyByNode.set(v.nodeId, proxy);
        v.advertisedPort = proxy.listenPort;
      }
    }
    // Training a CDS archive needs a clean JVM exit, which only a single node gets quickly.
    const cds = await planCds(libs, size === 1);
    const heapMb = options.heapMb ?? (size === 1 ? 512 : 384);
    const clusterId = newClusterId();
    const nodes: NodeState[] = voters.map((v) => {
      const dir = join(root, `node-${v.nodeId}`);
      mkdirSync(dir, { recursive: true });
      const logFile = join(dir, 'server.log');
      const propsFile = join(dir, 'server.properties');
      const props = serverProperties({
        node: v,
        voters,
        dataDir: join(dir, 'data'),
        version,
        overrides: options.brokerConfig ?? {},
      });
      writeFileSync(propsFile, props);
      const logging = loggingConfig(version, dir, logFile);
      writeFileSync(logging.fileName, logging.content);
      const jvmArgs = [
        '-Xms128m',
        `-Xmx${heapMb}m`,
        '-XX:+UseG1GC',
        '-XX:MaxGCPauseMillis=20',
        '-Djava.awt.headless=true',
        '-Djava.net.preferIPv4Stack=true',
        `-Dkafka.logs.dir=${dir}`,
        ...cds.flags,
        ...(process.env.KBACKUP_KAFKA_JVM_OPTS ?? '').split(/\s+/).filter((o) => o !== ''),
        logging.jvmFlag,
        '-cp',
        classPath,
        'kafka.Kafka',
        propsFile,
      ];
      return {
        nodeId: v.nodeId,
        port: v.advertisedPort,
        brokerPort: v.listenPort,
        controllerPort: v.controllerPort,
        listenerPorts: Object.fromEntries((v.extraListeners ?? []).map((l) => [l.name, l.port])),
        dir,
        logFile,
        pid: -1,
        running: false,
        ports: v,
        propsFile,
        jvmArgs,
        process: undefined,
        paused: false,
      };
    });
    // With static controller.quorum.voters every node is formatted alike (no --standalone).
    await Promise.all(
      nodes.map((n) =>
        runJavaTool(
          classPath,
          [
            'kafka.tools.StorageTool',
            'format',
            '-t',
            clusterId,
            '-c',
            n.propsFile,
            ...(options.formatArgs ?? []),
          ],
          cds.toolFlags,
        ),
      ),
    );
    cluster = new Cluster(
      version,
      root,
      nodes,
      proxied ? new ProxyGroup(proxyByNode) : undefined,
      options.startTimeoutMs ?? 120_000,
      cds,
    );
    const started = cluster;
    // All at once: each node waits for a quorum majority before it reports started.
    await Promise.all(nodes.map((n) => started.startNode(n)));
    await cluster.waitForRegistration();
    return cluster;
  } catch (error) {
    // Keep what explains the failure; the error text names the directory.
    keepTempRoot(root);
    if (cluster) await cluster.stop();
    else {
      await Promise.all([...proxyByNode.values()].map((p) => p.close()));
      releaseTempRoot(root);
    }
    const message = error instanceof Error ? error.message : String(error);
    // The message already carries the cause's text (with log tails); a `cause` would print it twice.
    throw new Error(
      `startCluster(${size} node(s), Kafka ${version}) failed; logs kept in ${root}\n${message}`,
    );
  }
}
