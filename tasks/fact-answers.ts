// The way a defineFact script that answers several queries marks each answer: an `@@` line before
// it (gitState, sysctlValue), so one query's output never runs into the next one's.

/** The script's answers, one per query; an answer missing or extra is an error naming the fact. */
export function answerBlocks(stdout: string, kind: string, count: number): string[] {
  const blocks = stdout.split('@@\n').slice(1);
  if (blocks.length !== count)
    throw new Error(`${kind}: ${count} answers expected, got ${blocks.length}: ${stdout}`);
  return blocks;
}
