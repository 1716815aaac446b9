// The one sentence that says which privileges the accelerator needs (src/accel/privileges.ts says
// why). A module of its own, without imports: the CLI's error formatting uses it, and must not pull
// in the loader for `--help`.
export const ACCEL_PRIVILEGE_HINT = 'run as root, or with CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON';
