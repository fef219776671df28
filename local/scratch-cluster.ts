// Throwaway PostgreSQL clusters for comparing database definitions (npm run db:diff, the schema
// check in npm test), for pg_net's own tests and for the pgTAP suites (local/pgtap.ts). Each is set up
// as the stack's own cluster is (pg_cron preloaded, the stand-ins for hosted Supabase loaded), because
// pg_cron can only be created in the database its cluster names: two definitions are compared as two
// clusters, never as two databases of one, and the pgTAP suites get a cluster, not a database.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, paths } from './config.ts';
import { type Cluster, clusterUrl, ensureCluster, loadStandins, startPostgres, stopPostgres } from './postgres.ts';

export interface ScratchCluster extends Cluster {
  url: string;
}

/** Runs `use` with a new cluster holding only the stand-ins, and removes the cluster afterwards. */
export async function withScratchCluster<T>(name: string, use: (cluster: ScratchCluster) => Promise<T>): Promise<T> {
  const dir = join(paths.postgresDir, 'scratch', `${name}-${process.pid}`);
  const cluster: Cluster = {
    dir,
    dataDir: join(dir, 'data'),
    socketDir: join(dir, 'run'),
    log: join(dir, 'postgres.log'),
    port: await freePort(),
    password: randomBytes(18).toString('base64url'),
  };
  rmSync(dir, { recursive: true, force: true });
  try {
    ensureCluster(cluster);
    startPostgres(cluster);
    loadStandins(cluster);
    return await use({ ...cluster, url: clusterUrl(cluster) });
  } finally {
    stopPostgres(cluster);
    rmSync(dir, { recursive: true, force: true });
  }
}
