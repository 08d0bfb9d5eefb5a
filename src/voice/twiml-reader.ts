/**
 * Reads a TwiML answer the way Twilio acts on it, for the simulated caller: either the call is
 * connected to a Media Stream (`<Connect><Stream url>` with `<Parameter>`s), or it is spoken to
 * (`<Say>`) and perhaps hung up on. A small XML reader: elements, attributes, text, entities;
 * no DTDs or namespaces, which TwiML does not use.
 */
import { ValidationError } from '../errors.js';

/** What the TwiML tells Twilio to do with the call. */
export type TwimlAnswer =
  | { kind: 'stream'; url: string; parameters: Record<string, string>; said: string[] }
  | { kind: 'spoken'; said: string[]; hangUp: boolean };

/** The answer is not TwiML Twilio could act on; the message says what is wrong. */
export class TwimlError extends ValidationError {}

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: Array<XmlElement | string>;
}

const NAMED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-z]+);/g, (whole, entity: string) => {
    if (entity.startsWith('#x')) return String.fromCodePoint(Number.parseInt(entity.slice(2), 16));
    if (entity.startsWith('#')) return String.fromCodePoint(Number.parseInt(entity.slice(1), 10));
    return NAMED_ENTITIES[entity] ?? whole;
  });
}

const TAG = /<(\/?)([A-Za-z_][\w.-]*)((?:\s+[\w.:-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/y;
const ATTRIBUTE = /([\w.:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

/** Parses an XML document into its root element; throws `TwimlError` on malformed XML. */
export function parseXml(xml: string): XmlElement {
  const root: XmlElement = { name: '#document', attributes: {}, children: [] };
  const stack: XmlElement[] = [root];
  let at = 0;
  while (at < xml.length) {
    const lt = xml.indexOf('<', at);
    const text = xml.slice(at, lt === -1 ? xml.length : lt);
    if (text.trim() !== '') stack[stack.length - 1]?.children.push(decodeEntities(text));
    if (lt === -1) break;
    if (xml.startsWith('<?', lt) || xml.startsWith('<!--', lt)) {
      const close = xml.indexOf(xml.startsWith('<?', lt) ? '?>' : '-->', lt);
      if (close === -1) throw new TwimlError('Malformed XML: an unterminated declaration or comment.');
      at = close + (xml.startsWith('<?', lt) ? 2 : 3);
      continue;
    }
    TAG.lastIndex = lt;
    const match = TAG.exec(xml);
    if (!match) throw new TwimlError(`Malformed XML near "${xml.slice(lt, lt + 40)}".`);
    const [whole, closing, name = '', attributeText = '', selfClosing] = match;
    if (closing) {
      const open = stack.pop();
      if (open?.name !== name || stack.length === 0) {
        throw new TwimlError(`Malformed XML: </${name}> does not close <${open?.name ?? 'nothing'}>.`);
      }
    } else {
      const attributes: Record<string, string> = {};
      for (const attribute of attributeText.matchAll(ATTRIBUTE)) {
        attributes[attribute[1] ?? ''] = decodeEntities(attribute[2] ?? attribute[3] ?? '');
      }
      const element: XmlElement = { name, attributes, children: [] };
      stack[stack.length - 1]?.children.push(element);
      if (!selfClosing) stack.push(element);
    }
    at = lt + whole.length;
  }
  if (stack.length !== 1) throw new TwimlError(`Malformed XML: <${stack[stack.length - 1]?.name}> is never closed.`);
  const elements = root.children.filter((child): child is XmlElement => typeof child !== 'string');
  if (elements.length !== 1 || !elements[0]) throw new TwimlError('Malformed XML: expected one root element.');
  return elements[0];
}

const elementsOf = (element: XmlElement, name?: string): XmlElement[] =>
  element.children.filter((child): child is XmlElement => typeof child !== 'string' && (!name || child.name === name));

const textOf = (element: XmlElement): string =>
  element.children
    .map((child) => (typeof child === 'string' ? child : textOf(child)))
    .join('')
    .trim();

/** Reads a TwiML answer: what Twilio would do with the call. Throws `TwimlError` when it is not TwiML. */
export function readTwiml(xml: string): TwimlAnswer {
  const response = parseXml(xml);
  if (response.name !== 'Response') throw new TwimlError(`Not TwiML: the root element is <${response.name}>.`);
  const said: string[] = [];
  // Twilio runs verbs in order: a <Connect><Stream> takes over the call; verbs after it never run.
  for (const verb of elementsOf(response)) {
    if (verb.name === 'Say') said.push(textOf(verb));
    else if (verb.name === 'Hangup') return { kind: 'spoken', said, hangUp: true };
    else if (verb.name === 'Connect') {
      const stream = elementsOf(verb, 'Stream')[0];
      if (!stream) continue;
      const url = stream.attributes.url;
      if (!url) throw new TwimlError('<Stream> has no url attribute.');
      const parameters: Record<string, string> = {};
      for (const parameter of elementsOf(stream, 'Parameter')) {
        if (parameter.attributes.name !== undefined)
          parameters[parameter.attributes.name] = parameter.attributes.value ?? '';
      }
      return { kind: 'stream', url, parameters, said };
    }
  }
  return { kind: 'spoken', said, hangUp: false };
}
