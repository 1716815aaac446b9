// The bench's defaults, on their own: `--help` shows them without loading the bench itself.
export const DEFAULT_SIZES = [128, 1024, 16384, 65536];
export const DEFAULT_DURATION = 1;
export const DEFAULT_ROUNDS = 5;
export const DEFAULT_LATENCY_SIZE = 64;
