import { z } from 'zod';

/**
 * The YAML configuration file (`--config`, or KBACKUP_CONFIG). Secrets are never written in it: a password
 * comes from an environment variable (`passwordEnv`) or a file (`passwordFile`, e.g. a mounted secret).
 */
const secretRef = {
  passwordEnv: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name')
    .optional(),
  passwordFile: z.string().min(1).optional(),
};

export const tlsSchema = z
  .object({
    enabled: z.boolean().default(true),
    caFile: z.string().min(1).optional(),
    certFile: z.string().min(1).optional(),
    keyFile: z.string().min(1).optional(),
    serverName: z.string().min(1).optional(),
    /** Accept any server certificate. Allowed only with a loud warning on every run. */
    insecureSkipVerify: z.boolean().default(false),
  })
  .strict();

export const saslSchema = z
  .object({
    mechanism: z.enum(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER']),
    username: z.string().min(1).optional(),
    ...secretRef,
    tokenEnv: z.string().optional(),
    tokenFile: z.string().optional(),
  })
  .strict();

export const clusterSchema = z
  .object({
    bootstrap: z.string().min(1),
    tls: tlsSchema.optional(),
    sasl: saslSchema.optional(),
  })
  .strict();

/** Option defaults per command, keyed by the flag's camelCase name (e.g. segmentSize for --segment-size). */
const optionValues = z.record(
  z.string(),
  z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]),
);

export const configFileSchema = z
  .object({
    clusters: z.record(z.string().regex(/^[A-Za-z0-9._-]+$/), clusterSchema).default({}),
    /** Options that apply to every command that has them. */
    defaults: optionValues.default({}),
    /** Options for one command: `backup: {codec: lz4}`. */
    commands: z.record(z.string(), optionValues).default({}),
  })
  .strict();

export type ConfigFile = z.output<typeof configFileSchema>;
export type ClusterConfig = z.output<typeof clusterSchema>;
