// The fleet's `cap.template`: what residents hear when a CAP message brings no audio of its own.
// Pure. Placeholders are `{headline}`, `{event}`, `{description}`, `{instruction}`, `{language}`;
// a missing part becomes empty and the punctuation around it is tidied, so
// "Thông báo khẩn: {headline}. {description}. {instruction}." reads well without a description.
import type { CapTextParts } from './map.js';

export const CAP_TEMPLATE_FIELDS = ['headline', 'event', 'description', 'instruction', 'language'] as const;
type Field = (typeof CAP_TEMPLATE_FIELDS)[number];

const PLACEHOLDER = /\{([^{}]*)\}/g;

/** Why a template cannot be used (an unknown placeholder), or undefined. */
export function capTemplateError(template: string): string | undefined {
  for (const m of template.matchAll(PLACEHOLDER)) {
    if (!(CAP_TEMPLATE_FIELDS as readonly string[]).includes(m[1]!)) {
      return `unknown placeholder {${m[1]}}; expected ${CAP_TEMPLATE_FIELDS.map((f) => `{${f}}`).join(', ')}`;
    }
  }
  if (template.trim() === '') return 'expected a non-empty template';
  return undefined;
}

const oneLine = (s: string | undefined): string => (s ?? '').replace(/\s+/g, ' ').trim();

/** Fill the template, then drop the spaces and doubled punctuation that empty parts leave behind. */
export function renderCapTemplate(template: string, parts: CapTextParts): string {
  const filled = template.replace(PLACEHOLDER, (m, name: string) => ((CAP_TEMPLATE_FIELDS as readonly string[]).includes(name) ? oneLine(parts[name as Field]) : m));
  let out = filled.replace(/\s+/g, ' ');
  out = out.replace(/\s+([.,;:!?…])/g, '$1');
  // "bão.. " or "bão!." left by an empty part or by a headline that ends its own sentence
  for (let prev = ''; prev !== out; ) {
    prev = out;
    out = out.replace(/([.!?…:;,])[.,;:]+/g, '$1');
  }
  return out.replace(/^[\s.,;:]+/, '').trim();
}

export const capTemplate =
  (template: string) =>
  (parts: CapTextParts): string =>
    renderCapTemplate(template, parts);
