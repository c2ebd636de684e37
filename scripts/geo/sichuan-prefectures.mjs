// Writes apps/console/web/src/geo/sichuan-prefectures.json (plain GeoJSON, one feature per
// prefecture-level division, properties { adcode, name }) from the map file that the npm package
// echarts@4.9.0 shipped (map/json/province/sichuan.json, in ECharts' "UTF8Encoding" compression:
// zigzag-delta coordinates as characters, 1/1024 degree steps). See the SOURCE.md beside the output.
//   npm pack echarts@4.9.0 && tar xzf echarts-4.9.0.tgz package/map/json/province/sichuan.json
//   node scripts/geo/sichuan-prefectures.mjs package/map/json/province/sichuan.json
import { readFileSync, writeFileSync } from 'node:fs';

const [input, output = 'apps/console/web/src/geo/sichuan-prefectures.json'] = process.argv.slice(2);
if (!input) throw new Error('usage: node scripts/geo/sichuan-prefectures.mjs <echarts4 sichuan.json> [out]');
const src = JSON.parse(readFileSync(input, 'utf8'));
const scale = src.UTF8Scale ?? 1024;
// 1/1024 degree is about 100 m: four decimals keep every step
const round = (v) => Math.round(v * 1e4) / 1e4;
// Douglas-Peucker tolerance in degrees: 0.006 (about 600 m) is under half a pixel with the province
// 600 px wide, and cuts the file from 725 kB to 132 kB (rings are simplified one by one: a gap between two
// neighbours stays under the tolerance)
const TOLERANCE = Number(process.env.GEO_TOLERANCE ?? 0.006);

function simplify(points) {
  if (points.length <= 4) return points;
  const keep = new Uint8Array(points.length);
  keep[0] = keep[points.length - 1] = 1;
  const stack = [[0, points.length - 1]];
  while (stack.length) {
    const [a, b] = stack.pop();
    const [ax, ay] = points[a];
    const [bx, by] = points[b];
    const len = Math.hypot(bx - ax, by - ay);
    let far = -1;
    let dist = TOLERANCE;
    for (let i = a + 1; i < b; i++) {
      const [px, py] = points[i];
      const d = len
        ? Math.abs((bx - ax) * (ay - py) - (ax - px) * (by - ay)) / len
        : Math.hypot(px - ax, py - ay);
      if (d > dist) [far, dist] = [i, d];
    }
    if (far >= 0) {
      keep[far] = 1;
      stack.push([a, far], [far, b]);
    }
  }
  return points.filter((_, i) => keep[i]);
}

function ring(encoded, [x0, y0]) {
  const out = [];
  let [x, y] = [x0, y0];
  for (let i = 0; i < encoded.length; i += 2) {
    const dx = encoded.charCodeAt(i) - 64;
    const dy = encoded.charCodeAt(i + 1) - 64;
    x += (dx >> 1) ^ -(dx & 1);
    y += (dy >> 1) ^ -(dy & 1);
    const p = [round(x / scale), round(y / scale)];
    const last = out[out.length - 1];
    if (!last || last[0] !== p[0] || last[1] !== p[1]) out.push(p);
  }
  // GeoJSON rings are closed
  if (out.length && (out[0][0] !== out.at(-1)[0] || out[0][1] !== out.at(-1)[1])) out.push(out[0]);
  return simplify(out);
}

const features = src.features.map((f) => {
  const g = f.geometry;
  // rings of fewer than 4 points are slivers of the encoding, not land
  const polygons = (g.type === 'Polygon' ? [g.coordinates] : g.coordinates)
    .map((poly, i) =>
      poly
        .map((r, j) => ring(r, g.type === 'Polygon' ? g.encodeOffsets[j] : g.encodeOffsets[i][j]))
        .filter((r) => r.length >= 4),
    )
    .filter((poly) => poly.length);
  return {
    type: 'Feature',
    properties: { adcode: String(f.id), name: f.properties.name },
    geometry:
      polygons.length === 1
        ? { type: 'Polygon', coordinates: polygons[0] }
        : { type: 'MultiPolygon', coordinates: polygons },
  };
});
features.sort((a, b) => a.properties.adcode.localeCompare(b.properties.adcode));
writeFileSync(output, JSON.stringify({ type: 'FeatureCollection', features }) + '\n');
console.log(`${features.length} features -> ${output}`);
