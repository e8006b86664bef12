/** The exit codes of `fleetbook run`, documented in the README's CLI reference. */
export const EXIT = { ok: 0, config: 1, failed: 2, unreachable: 4 } as const;
