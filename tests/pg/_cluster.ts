/**
 * A throwaway PostgreSQL cluster for tests: `initdb` in a temporary
 * directory, `pg_ctl start` on a free loopback port (its unix socket in the
 * same directory), password authentication over TCP (so every URL the
 * tests use carries a password, and redaction is exercised), and removal of
 * everything at the end. One cluster per test file; each test takes its own
 * database ({@link PgCluster.createDatabase}).
 *
 * PostgreSQL is required, not optional: without it {@link startCluster}
 * throws and the tests fail (`.ci/run` installs it from Debian). The binaries
 * are looked up in `$REGLEDGER_PG_BIN`, else the newest
 * `/usr/lib/postgresql/<version>/bin`. initdb refuses to run as root: as
 * root, the cluster runs as the `postgres` user (`runuser -u postgres --`).
 *
 * `fsync=off`: the tests crash server processes and stop PostgreSQL with
 * `pg_ctl stop -m immediate` (a process crash, not an OS crash: written WAL
 * survives in the page cache), so fsync only costs time here. The
 * benchmark keeps fsync on.
 *
 * @module
 */

/** The superuser's password in every test cluster (for the URLs and the redaction tests). */
export const PG_PASSWORD = "s3cr3t-Pa55word";
/** The operating-system user PostgreSQL's programs run as when this process is root. */
export const USER = "postgres";

/** A running test cluster. */
export interface PgCluster {
  /** The TCP port on 127.0.0.1. */
  readonly port: number;
  /** `postgres://postgres:PASSWORD@127.0.0.1:PORT/DB`. */
  url(db: string): string;
  /** Create a fresh database with a unique name; its URL. */
  createDatabase(): Promise<string>;
  /** Run SQL through `psql` on database `db` (as the superuser); its stdout. */
  psql(db: string, sql: string): Promise<string>;
  /** `pg_ctl stop -m <mode>` (immediate: like a crash). */
  stop(mode?: "fast" | "immediate"): Promise<void>;
  /** `pg_ctl start` again on the same port and data directory. */
  start(): Promise<void>;
  /** The temporary directory holding the data directory, socket and log. */
  readonly dir: string;
  /** The postmaster's process id (while running). */
  postmasterPid(): Promise<number>;
  /** Stop (if running) and remove the cluster's directory. */
  destroy(): Promise<void>;
}

/** The directory holding `initdb`, `pg_ctl` and `psql`. */
export async function pgBinDir(): Promise<string> {
  const env = Deno.env.get("REGLEDGER_PG_BIN");
  if (env) return env;
  const versions: number[] = [];
  try {
    for await (const e of Deno.readDir("/usr/lib/postgresql")) {
      if (/^\d+$/.test(e.name)) versions.push(Number(e.name));
    }
  } catch {
    // reported below
  }
  versions.sort((a, b) => b - a);
  for (const v of versions) {
    const dir = `/usr/lib/postgresql/${v}/bin`;
    try {
      await Deno.stat(`${dir}/initdb`);
      return dir;
    } catch {
      // try the next version
    }
  }
  throw new Error(
    "PostgreSQL is not installed (no /usr/lib/postgresql/<version>/bin/initdb): " +
      "apt-get install -y postgresql, or set REGLEDGER_PG_BIN to its bin directory",
  );
}

/** Whether this process runs as root (then PostgreSQL's programs run as `postgres`). */
export async function isRoot(): Promise<boolean> {
  const out = await new Deno.Command("id", { args: ["-u"], stdout: "piped" }).output();
  return new TextDecoder().decode(out.stdout).trim() === "0";
}

/** A loopback TCP port nothing listens on (taken from the OS, then released). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Options of {@link startCluster}. */
export interface ClusterOptions {
  /** Keep `fsync` on (benchmarks: durable commits as in production). @default {false} */
  fsync?: boolean;
  /** PostgreSQL's `shared_buffers`. @default {"128MB"} */
  sharedBuffers?: string;
  /**
   * `ssl=on` with a certificate for `127.0.0.1` and `localhost` signed by a
   * throwaway CA (made by `openssl` in the cluster's directory: `ca.pem`).
   * @default {false}
   */
  tls?: boolean;
}

/** Make a CA and a server certificate for 127.0.0.1/localhost signed by it, in `dir`. */
async function makeCertificates(dir: string): Promise<void> {
  const openssl = async (args: string[]) => {
    const out = await new Deno.Command("openssl", {
      args,
      cwd: dir,
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(out.stderr)}`);
    }
  };
  const days = ["-days", "2"];
  await openssl([
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    ...days,
    "-subj",
    "/CN=regledger test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign",
  ]); // deno-fmt-ignore
  await openssl([
    "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
    "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost",
  ]); // deno-fmt-ignore
  await Deno.writeTextFile(
    `${dir}/server.ext`,
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
  );
  await openssl([
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.pem",
    ...days,
    "-extfile",
    "server.ext",
  ]); // deno-fmt-ignore
  await Deno.chmod(`${dir}/server.key`, 0o600);
}

/** Start a cluster (see the module documentation). */
export async function startCluster(options: ClusterOptions = {}): Promise<PgCluster> {
  const durability = options.fsync ? "" : "-c fsync=off -c full_page_writes=off ";
  let tls = "";
  const bin = await pgBinDir();
  const root = await isRoot();
  const dir = await Deno.makeTempDir({ prefix: "regledger-pg-" });
  const data = `${dir}/data`;
  const run = async (cmd: string, args: string[], check = true): Promise<string> => {
    const full = root ? ["-u", USER, "--", `${bin}/${cmd}`, ...args] : args;
    const out = await new Deno.Command(root ? "runuser" : `${bin}/${cmd}`, {
      args: full,
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    if (check && !out.success) {
      throw new Error(
        `${cmd} failed (${out.code}): ${new TextDecoder().decode(out.stderr)}\n${text}`,
      );
    }
    return text;
  };
  try {
    if (root) {
      const chown = await new Deno.Command("chown", { args: [`${USER}:${USER}`, dir] }).output();
      if (!chown.success) throw new Error(`cannot give ${dir} to ${USER}`);
    }
    await Deno.writeTextFile(`${dir}/pw`, PG_PASSWORD + "\n");
    if (root) await new Deno.Command("chown", { args: [`${USER}:${USER}`, `${dir}/pw`] }).output();
    if (options.tls) {
      await makeCertificates(dir);
      if (root) {
        await new Deno.Command("chown", {
          args: [`${USER}:${USER}`, `${dir}/server.key`, `${dir}/server.pem`],
        }).output();
      }
      tls = `-c ssl=on -c ssl_cert_file=${dir}/server.pem -c ssl_key_file=${dir}/server.key `;
    }
    await run("initdb", [
      "-D",
      data,
      "-U",
      USER,
      "--pwfile",
      `${dir}/pw`,
      "--auth-local=trust",
      "--auth-host=scram-sha-256",
      "-E",
      "UTF8",
      "--no-instructions",
    ]);
  } catch (e) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw e;
  }
  let port = 0;
  let running = false;
  const start = async () => {
    await run("pg_ctl", [
      "start",
      "-w",
      "-D",
      data,
      "-l",
      `${dir}/log`,
      "-o",
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 ${durability}${tls}` +
      `-c max_connections=200 -c shared_buffers=${options.sharedBuffers ?? "128MB"}`,
    ]);
    running = true;
  };
  for (let attempt = 0;; attempt++) {
    port = freePort();
    try {
      await start();
      break;
    } catch (e) {
      if (attempt >= 3) {
        await Deno.remove(dir, { recursive: true }).catch(() => {});
        throw e;
      }
    }
  }
  const stop = async (mode: "fast" | "immediate" = "fast") => {
    if (!running) return;
    await run("pg_ctl", ["stop", "-w", "-D", data, "-m", mode]);
    running = false;
  };
  let dbs = 0;
  const url = (db: string) =>
    `postgres://${USER}:${encodeURIComponent(PG_PASSWORD)}@127.0.0.1:${port}/${db}`;
  const psql = (db: string, sql: string) =>
    run("psql", [
      "-h",
      dir,
      "-p",
      String(port),
      "-d",
      db,
      "-X",
      "-q",
      "-A",
      "-t",
      "-v",
      "ON_ERROR_STOP=1",
      "-c",
      sql,
    ]);
  return {
    port,
    dir,
    url,
    async postmasterPid() {
      return Number((await Deno.readTextFile(`${data}/postmaster.pid`)).split("\n")[0]);
    },
    psql,
    async createDatabase() {
      const name = `t${Date.now().toString(36)}_${++dbs}`;
      await psql("postgres", `CREATE DATABASE ${name}`);
      return url(name);
    },
    stop,
    start,
    async destroy() {
      try {
        await stop("immediate");
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  };
}

/**
 * One cluster shared by the tests of one file: started by the first test
 * that asks, stopped by the last test {@link registerClusterTeardown}
 * registers (and, as a backstop when a filter skipped that test, killed and
 * removed on unload).
 */
let shared: Promise<PgCluster> | null = null;
let backstop: { pid: number; dir: string } | null = null;

/** The file's shared cluster (started on first use). */
export function sharedCluster(): Promise<PgCluster> {
  shared ??= startCluster().then(async (c) => {
    backstop = { pid: await c.postmasterPid(), dir: c.dir };
    return c;
  });
  return shared;
}

/** Register the test that stops the shared cluster: call it after the file's other tests. */
export function registerClusterTeardown(): void {
  Deno.test({
    name: "stop the test PostgreSQL cluster",
    fn: async () => {
      if (!shared) return;
      const c = await shared;
      shared = null;
      backstop = null;
      await c.destroy();
    },
  });
  globalThis.addEventListener("unload", () => {
    if (backstop === null) return;
    try {
      Deno.kill(backstop.pid, "SIGQUIT");
    } catch {
      // already gone
    }
    try {
      Deno.removeSync(backstop.dir, { recursive: true });
    } catch {
      // best effort
    }
  });
}
