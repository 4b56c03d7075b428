/* Coverage laid on paper in inks and turned into 8-bit RGB, in one pass over the pixels.
 *
 * The same float32 arithmetic, operation for operation, as inks.composite followed by
 * Paint.to_rgb8 (coverage clamped to [0, 1]; x 255, rounded half to even, clamped), so both
 * give the same bytes; compiled with -ffp-contract=off so that no product is fused into an
 * addition. torch's version takes a dozen passes over (B, 3, H, W) temporaries and a strided
 * copy to (B, H, W, 3); this one writes the (B, H, W, 3) pixels directly.
 *
 *   multiply: v = v * ((1 - c) + c * ink)    (ink: the layer's transmittance, ink / paper)
 *   over:     v = v + c * (ink - v)
 */
#include <math.h>
#include <stdint.h>

#define BLOCK 256 /* pixels per pass: each layer's loop runs over a block, so it vectorises */

static float clamp01(float c) { return c < 0 ? 0 : (c > 1 ? 1 : c); }

void paint_rgb8(const float *cov, int64_t g0, int64_t g1, int64_t layers, int64_t area,
                const float *paper, const float *inks, int64_t over, uint8_t *out) {
    float v[3][BLOCK];
    for (int64_t g = g0; g < g1; g++)
        for (int64_t j0 = 0; j0 < area; j0 += BLOCK) {
            int64_t n = area - j0 < BLOCK ? area - j0 : BLOCK;
            for (int ch = 0; ch < 3; ch++)
                for (int64_t j = 0; j < n; j++) v[ch][j] = paper[ch];
            for (int64_t k = 0; k < layers; k++) {
                const float *c = cov + (g * layers + k) * area + j0;
                for (int ch = 0; ch < 3; ch++) {
                    float ink = inks[3 * k + ch], *vc = v[ch];
                    if (over)
                        for (int64_t j = 0; j < n; j++)
                            vc[j] = vc[j] + clamp01(c[j]) * (ink - vc[j]);
                    else
                        for (int64_t j = 0; j < n; j++) {
                            float x = clamp01(c[j]);
                            vc[j] = vc[j] * ((1 - x) + x * ink);
                        }
                }
            }
            uint8_t *o = out + (g * area + j0) * 3;
            for (int64_t j = 0; j < n; j++)
                for (int ch = 0; ch < 3; ch++) {
                    float q = nearbyintf(v[ch][j] * 255);
                    o[3 * j + ch] = (uint8_t)(q > 0 ? (q < 255 ? q : 255) : 0); /* NaN: 0 */
                }
        }
}
