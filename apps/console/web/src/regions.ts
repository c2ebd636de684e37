/**
 * Administrative divisions (GB/T 2260 codes, as the carriers send them in `region`) shown by name.
 * Sichuan's 21 prefecture-level divisions; a county code (5101xx) is shown as its prefecture with
 * the code, a code not in the table as itself.
 */
export const SICHUAN_DIVISIONS: Readonly<Record<string, { zh: string; en: string }>> = {
  '510000': { zh: '四川省', en: 'Sichuan' },
  '510100': { zh: '成都市', en: 'Chengdu' },
  '510300': { zh: '自贡市', en: 'Zigong' },
  '510400': { zh: '攀枝花市', en: 'Panzhihua' },
  '510500': { zh: '泸州市', en: 'Luzhou' },
  '510600': { zh: '德阳市', en: 'Deyang' },
  '510700': { zh: '绵阳市', en: 'Mianyang' },
  '510800': { zh: '广元市', en: 'Guangyuan' },
  '510900': { zh: '遂宁市', en: 'Suining' },
  '511000': { zh: '内江市', en: 'Neijiang' },
  '511100': { zh: '乐山市', en: 'Leshan' },
  '511300': { zh: '南充市', en: 'Nanchong' },
  '511400': { zh: '眉山市', en: 'Meishan' },
  '511500': { zh: '宜宾市', en: 'Yibin' },
  '511600': { zh: '广安市', en: "Guang'an" },
  '511700': { zh: '达州市', en: 'Dazhou' },
  '511800': { zh: '雅安市', en: "Ya'an" },
  '511900': { zh: '巴中市', en: 'Bazhong' },
  '512000': { zh: '资阳市', en: 'Ziyang' },
  '513200': { zh: '阿坝藏族羌族自治州', en: 'Ngawa (Aba) Prefecture' },
  '513300': { zh: '甘孜藏族自治州', en: 'Garzê (Ganzi) Prefecture' },
  '513400': { zh: '凉山彝族自治州', en: 'Liangshan Prefecture' },
};

export function regionName(code: string | null | undefined, locale: string): string {
  if (!code) return '—';
  const lang = locale.startsWith('zh') ? 'zh' : 'en';
  const exact = SICHUAN_DIVISIONS[code];
  if (exact) return exact[lang];
  const prefecture = /^\d{6}$/.test(code) ? SICHUAN_DIVISIONS[`${code.slice(0, 4)}00`] : undefined;
  return prefecture ? `${prefecture[lang]} ${code}` : code;
}
