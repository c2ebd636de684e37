import { duration, formatDateTime, shortToken } from './format';
import { regionName } from './regions';

describe('console formatting', () => {
  it('renders times in the configured zone, whatever the browser zone', () => {
    const at = '2026-03-01T16:30:05Z';
    expect(formatDateTime(at, 'Asia/Shanghai')).toBe('2026-03-02 00:30:05');
    expect(formatDateTime(at, 'UTC')).toBe('2026-03-01 16:30:05');
    expect(formatDateTime(at, 'Asia/Urumqi')).toBe('2026-03-01 22:30:05');
  });

  it('shows call durations and shortens tokens', () => {
    expect(duration(59.9)).toBe('0:59');
    expect(duration(3725)).toBe('1:02:05');
    expect(shortToken('p1.sima.AAAABBBBCCCCDDDDEEEEFF')).toBe('p1.sima.AAAA…EEFF');
  });

  it('names Sichuan divisions in both languages, counties by their prefecture', () => {
    expect(regionName('510100', 'zh-CN')).toBe('成都市');
    expect(regionName('510700', 'en')).toBe('Mianyang');
    expect(regionName('510104', 'zh-CN')).toBe('成都市 510104');
    expect(regionName('110100', 'en')).toBe('110100');
    expect(regionName(null, 'en')).toBe('—');
  });
});
