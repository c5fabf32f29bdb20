/** Every value of a header (`name` in lower case) in a raw header list, in the order sent. */
export function headerValuesIn(raw: readonly string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]?.toLowerCase() === name) values.push(raw[i + 1] ?? "");
  }
  return values;
}
