import { z } from 'zod';

// Mesos's Attribute JSON: the master sends an agent's attributes as TEXT; clients read any type.

const range = z.object({ begin: z.number().int().min(0), end: z.number().int().min(0) });

export const mesosAttribute = z.object({
  name: z.string(),
  type: z.string().optional(),
  text: z.object({ value: z.string() }).optional(),
  scalar: z.object({ value: z.number() }).optional(),
  ranges: z.object({ range: z.array(range) }).optional(),
  set: z.object({ item: z.array(z.string()) }).optional(),
});
export type MesosAttribute = z.output<typeof mesosAttribute>;

/** A string map as Mesos attributes (TEXT). */
export function encodeAttributes(a: Readonly<Record<string, string>>): { name: string; type: 'TEXT'; text: { value: string } }[] {
  return Object.entries(a).map(([name, value]) => ({ name, type: 'TEXT', text: { value } }));
}

/** Mesos attributes of any type as a string map (scalars printed, sets comma-joined, ranges as [a-b]). */
export function decodeAttributes(list: readonly MesosAttribute[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of list) {
    const v = a.text ? a.text.value : a.scalar ? String(a.scalar.value) : a.set ? a.set.item.join(',') : a.ranges ? a.ranges.range.map((r) => `[${r.begin}-${r.end}]`).join(',') : undefined;
    if (v !== undefined) out[a.name] = v;
  }
  return out;
}
