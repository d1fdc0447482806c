import { join } from 'node:path';

/** Ports of one KRaft node (combined broker + controller). */
export interface NodePorts {
  nodeId: number;
  /** The port the client listener binds. */
  listenPort: number;
  /** The port clients are told to use: listenPort, or a TCP proxy's port in proxy mode. */
  advertisedPort: number;
  controllerPort: number;
  /** Inter-broker listener, used only in proxy mode so that replication never passes the proxy. */
  internalPort: number | undefined;
  /** More client listeners beside PLAINTEXT (the secured broker's SASL_SSL, ...); not in proxy mode. */
  extraListeners?: ExtraListener[];
}

export type SecurityProtocol = 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';

/** A named client listener; its per-listener settings (listener.name.<name>.*) go in the overrides. */
export interface ExtraListener {
  name: string;
  protocol: SecurityProtocol;
  port: number;
}

export interface ServerConfigOptions {
  node: NodePorts;
  /** Every node of the cluster, for controller.quorum.voters. */
  voters: NodePorts[];
  dataDir: string;
  version: string;
  overrides: Record<string, string>;
}

/** Kafka 3.x logs through reload4j (log4j 1 syntax); 4.x through log4j2. */
export function isLegacyLogging(version: string): boolean {
  return version.startsWith('3.');
}

/**
 * Cluster-wide settings shared by the JVM harness and the Docker path. Follows shared/KAFKA-NOTES.md; comments
 * say why a value deviates from Kafka's default.
 */
export function clusterSettings(size: number, version: string): Record<string, string> {
  const minIsr = size >= 3 ? '2' : '1';
  const settings: Record<string, string> = {
    'num.partitions': '1',
    'default.replication.factor': String(size),
    'min.insync.replicas': minIsr,
    'offsets.topic.replication.factor': String(size),
    // One partition each: internal topics are created lazily and 50 partitions cost seconds on 2 cores.
    'offsets.topic.num.partitions': '1',
    'transaction.state.log.replication.factor': String(size),
    'transaction.state.log.min.isr': minIsr,
    'transaction.state.log.num.partitions': '1',
    'unclean.leader.election.enable': 'false',
    // Followers of a killed leader leave the ISR after 10 s instead of 30 s.
    'replica.lag.time.max.ms': '10000',
    'group.initial.rebalance.delay.ms': '0',
    // The cleaner allocates its dedupe buffer on the heap (128 MiB by default); brokers here have 384-512 MiB.
    'log.cleaner.dedupe.buffer.size': '2097152',
    'auto.create.topics.enable': 'false',
  };
  if (!isLegacyLogging(version)) {
    // Share groups (4.x) create their state topic with RF 3 and min ISR 2 unless told otherwise.
    settings['share.coordinator.state.topic.replication.factor'] = String(size);
    settings['share.coordinator.state.topic.min.isr'] = minIsr;
    settings['share.coordinator.state.topic.num.partitions'] = '1';
  }
  return settings;
}

/** server.properties for one node of the JVM harness. */
export function serverProperties(options: ServerConfigOptions): string {
  const { node, voters, version } = options;
  const host = '127.0.0.1';
  const props: Record<string, string> = {
    'process.roles': 'broker,controller',
    'node.id': String(node.nodeId),
    'controller.quorum.voters': voters.map((v) => `${v.nodeId}@${host}:${v.controllerPort}`).join(','),
    'controller.listener.names': 'CONTROLLER',
    'log.dirs': options.dataDir,
    ...clusterSettings(voters.length, version),
    // Fewer threads: 2 cores are shared by up to three JVMs and the test process.
    'num.network.threads': '2',
    'num.io.threads': '4',
    'num.recovery.threads.per.data.dir': '1',
    'log.cleaner.threads': '1',
    'background.threads': '4',
  };
  if (node.internalPort === undefined) {
    // PLAINTEXT stays the inter-broker listener (and the harness's own) even when extra ones are secured.
    const extra = node.extraListeners ?? [];
    const url = (l: { name: string; port: number }): string => `${l.name}://${host}:${l.port}`;
    Object.assign(props, {
      listeners: [
        `PLAINTEXT://${host}:${node.listenPort}`,
        `CONTROLLER://${host}:${node.controllerPort}`,
        ...extra.map(url),
      ].join(','),
      'advertised.listeners': [`PLAINTEXT://${host}:${node.advertisedPort}`, ...extra.map(url)].join(','),
      'inter.broker.listener.name': 'PLAINTEXT',
      'listener.security.protocol.map': [
        'CONTROLLER:PLAINTEXT',
        'PLAINTEXT:PLAINTEXT',
        ...extra.map((l) => `${l.name}:${l.protocol}`),
      ].join(','),
    });
  } else {
    // Proxy mode: clients reach EXTERNAL through the proxy, replication uses INTERNAL directly.
    Object.assign(props, {
      listeners:
        `INTERNAL://${host}:${node.internalPort},EXTERNAL://${host}:${node.listenPort},` +
        `CONTROLLER://${host}:${node.controllerPort}`,
      'advertised.listeners': `INTERNAL://${host}:${node.internalPort},EXTERNAL://${host}:${node.advertisedPort}`,
      'inter.broker.listener.name': 'INTERNAL',
      'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT',
    });
  }
  Object.assign(props, options.overrides);
  return (
    Object.entries(props)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n') + '\n'
  );
}

export interface LoggingConfig {
  fileName: string;
  content: string;
  /** The JVM system property that points the logging backend at the file. */
  jvmFlag: string;
}

/**
 * A logging config that writes INFO to `logFile`: readiness is detected from the "Kafka Server started" line,
 * which a broker without a config never prints (4.x logs only errors then). The file appends, so a restarted
 * node keeps its earlier history in the same file.
 */
export function loggingConfig(version: string, dir: string, logFile: string): LoggingConfig {
  const pattern = '[%d] %p %m (%c)%n';
  if (isLegacyLogging(version)) {
    const fileName = join(dir, 'log4j.properties');
    const content = [
      'log4j.rootLogger=INFO, file',
      'log4j.appender.file=org.apache.log4j.FileAppender',
      `log4j.appender.file.File=${logFile}`,
      'log4j.appender.file.Append=true',
      'log4j.appender.file.layout=org.apache.log4j.PatternLayout',
      `log4j.appender.file.layout.ConversionPattern=${pattern}`,
      'log4j.logger.kafka.request.logger=WARN',
      '',
    ].join('\n');
    return { fileName, content, jvmFlag: `-Dlog4j.configuration=file:${fileName}` };
  }
  // Properties rather than YAML: YAML needs jackson-dataformat-yaml on the class path to be picked up.
  const fileName = join(dir, 'log4j2.properties');
  const content = [
    'status = warn',
    'appender.file.type = File',
    'appender.file.name = FILE',
    `appender.file.fileName = ${logFile}`,
    'appender.file.append = true',
    'appender.file.layout.type = PatternLayout',
    `appender.file.layout.pattern = ${pattern}`,
    'rootLogger.level = INFO',
    'rootLogger.appenderRef.file.ref = FILE',
    'logger.request.name = kafka.request.logger',
    'logger.request.level = WARN',
    '',
  ].join('\n');
  return { fileName, content, jvmFlag: `-Dlog4j2.configurationFile=${fileName}` };
}
