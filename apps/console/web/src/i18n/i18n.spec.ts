import { en } from './en';
import { zhCN } from './zh-CN';

function flatten(tree: object, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(tree)) {
    if (typeof v === 'string') out[prefix + k] = v;
    else Object.assign(out, flatten(v as object, `${prefix}${k}.`));
  }
  return out;
}
const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

// Messages that are the same in both languages on purpose (a language's own name).
const SAME_IN_BOTH = new Set(['lang.en']);

describe('console messages', () => {
  const zh = flatten(zhCN);
  const enFlat = flatten(en);

  it('has every key in both zh-CN and en (key coverage)', () => {
    expect(Object.keys(enFlat).sort()).toEqual(Object.keys(zh).sort());
  });

  it('leaves no English string untranslated in zh-CN', () => {
    // words (Latin letters outside placeholders) with no Chinese: English left in; a message of
    // placeholders and punctuation only ("{at}，{user}") has nothing to translate
    const untranslated = Object.entries(zh).filter(([k, v]) => {
      const text = v.replace(/\{\w+\}/g, '');
      return !SAME_IN_BOTH.has(k) && /[A-Za-z]{2,}/.test(text) && !/[\u4e00-\u9fff]/.test(text);
    });
    expect(untranslated).toEqual([]);
  });

  it('uses the same placeholders in both languages and no vue-i18n special characters as text', () => {
    for (const [k, v] of Object.entries(zh)) {
      expect([k, placeholders(enFlat[k])]).toEqual([k, placeholders(v)]);
      expect([k, /[@$|]/.test(v) || /[@$|]/.test(enFlat[k])]).toEqual([k, false]);
    }
  });
});
