/** Reads a Hearth server's `/metrics` (Prometheus text format) as `name{labels}` → value. */
export async function scrapeMetrics(baseUrl: string): Promise<Metrics> {
  const response = await fetch(`${baseUrl}/metrics`);
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  if (!response.headers.get('content-type')?.startsWith('text/plain')) {
    throw new Error(`/metrics is not the text format: ${response.headers.get('content-type')}`);
  }
  const values = new Map<string, number>();
  for (const line of (await response.text()).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    values.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return new Metrics(values);
}

export class Metrics {
  constructor(readonly values: Map<string, number>) {}

  /** A sample's value, e.g. `get('hearth_pages_sent_total', { channel: 'sms' })`; 0 when absent. */
  get(name: string, labels: Record<string, string> = {}): number {
    const rendered = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
    for (const [sample, value] of this.values) {
      const open = sample.indexOf('{');
      const sampleName = open === -1 ? sample : sample.slice(0, open);
      if (sampleName === name && rendered.every((label) => sample.includes(label))) return value;
    }
    return 0;
  }

  /** How much a sample grew since `earlier`. */
  since(earlier: Metrics, name: string, labels: Record<string, string> = {}): number {
    return this.get(name, labels) - earlier.get(name, labels);
  }
}
