/* The stroke field, forward and closed-form backward, one pass over each glyph's pixels.
 *
 * Compiled on first use by stroke_kernel.py (gcc/cc, cached); without a compiler glyphart
 * uses the plain-torch rasteriser in strokes.py, which computes the same field.
 *
 * A glyph is K strokes; stroke k is a polyline of N1 points (pts: x, y; rad: radius), piece i
 * going from point i to point i + 1. Per pixel centre c and piece (a, b, ra, rb):
 *     t = clamp((c - a).(b - a) / |b - a|^2, 0, 1),   f = ra + t (rb - ra) - |c - a - t (b - a)|
 * a stroke's field is the max over its pieces (OUTSIDE beyond `reach`), and the S = K / L
 * strokes of each of L layers join in a soft maximum: uni * log(sum exp(f / uni)).
 * REAL and SUFFIX are set by the compiler command (float: _f32, double: _f64).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#define OUTSIDE ((REAL)-2.0)
#define FAR (-1e30)       /* below any real field: a pixel no piece has reached yet */
#define NEGLIGIBLE (-40)  /* exp(-40) = 4e-18: below double's epsilon next to the max's 1 */
#define CAT(a, b) a##b
#define NAME(a, b) CAT(a, b)

typedef struct {
    int64_t k, n1, size, row0, rows, layers;
    double reach, uni;
} Shape;

static REAL centre(int64_t i, int64_t size) { return ((REAL)i + (REAL)0.5) / (REAL)size; }

/* The pixel-index range [*lo, *hi] (clamped to [0, n)) whose centres can lie within `grow` of
 * the coordinates' span [u0, u1]; returns 0 if it is empty. Beyond it f < -reach. */
static int span(REAL u0, REAL u1, REAL grow, int64_t size, int64_t offset, int64_t n,
                int64_t *lo, int64_t *hi) {
    double l = ceil(((double)fmin(u0, u1) - grow) * size - 0.5) - offset;
    double h = floor(((double)fmax(u0, u1) + grow) * size - 0.5) - offset;
    if (h < 0 || l > n - 1) return 0;
    *lo = l < 0 ? 0 : (int64_t)l;
    *hi = h > n - 1 ? n - 1 : (int64_t)h;
    return *lo <= *hi;
}

/* f = max(f, the field of piece (a, b, ra, rb)) over pixels [x0, x1] of one row (centres cx,
 * py relative to a), and the piece's index where it wins; branch-free, so it vectorises. */
static inline void row_max(const REAL *cx, int64_t x0, int64_t x1, REAL ax, REAL py, REAL abx,
                           REAL aby, REAL inv, REAL ra, REAL dr, REAL *f, int32_t *w,
                           int32_t i) {
    for (int64_t x = x0; x <= x1; x++) {
        REAL px = cx[x] - ax;
        REAL t = (px * abx + py * aby) * inv;
        t = t < 0 ? 0 : (t > 1 ? 1 : t);
        REAL dx = px - t * abx, dy = py - t * aby;
        REAL v = ra + t * dr - sqrt(dx * dx + dy * dy);
        int better = v > f[x];
        f[x] = better ? v : f[x];
        if (w) w[x] = better ? i : w[x];
    }
}

/* One stroke's field into f (rows x size), and the winning piece into win (or NULL). */
static void stroke(const REAL *p, const REAL *r, const Shape *s, const REAL *cx, REAL *f,
                   int32_t *win) {
    int64_t area = s->rows * s->size;
    for (int64_t j = 0; j < area; j++) f[j] = (REAL)FAR;
    if (win)
        for (int64_t j = 0; j < area; j++) win[j] = -1;
    for (int64_t i = 0; i + 1 < s->n1; i++) {
        REAL ax = p[2 * i], ay = p[2 * i + 1], bx = p[2 * i + 2], by = p[2 * i + 3];
        REAL ra = r[i], rb = r[i + 1];
        REAL grow = (ra > rb ? ra : rb) + (REAL)s->reach;
        int64_t x0, x1, y0, y1;
        if (!span(ax, bx, grow, s->size, 0, s->size, &x0, &x1) ||
            !span(ay, by, grow, s->size, s->row0, s->rows, &y0, &y1))
            continue;
        REAL abx = bx - ax, aby = by - ay, l2 = abx * abx + aby * aby;
        /* A piece of no length is a disc: t = 0 (the reference does the same). */
        REAL inv = l2 > (REAL)1e-12 ? (REAL)1 / l2 : (REAL)0, dr = rb - ra;
        for (int64_t y = y0; y <= y1; y++) {
            REAL py = centre(s->row0 + y, s->size) - ay;
            if (win)
                row_max(cx, x0, x1, ax, py, abx, aby, inv, ra, dr, f + y * s->size,
                        win + y * s->size, (int32_t)i);
            else
                row_max(cx, x0, x1, ax, py, abx, aby, inv, ra, dr, f + y * s->size, NULL, 0);
        }
    }
    for (int64_t j = 0; j < area; j++)
        if (f[j] < (REAL)-s->reach) {
            f[j] = OUTSIDE;
            if (win) win[j] = -1;
        }
}

/* The soft maximum of `count` stroke fields (each `area` apart in f) into out. Most pixels
 * are beyond every stroke's reach (all fields OUTSIDE, the lowest they can be) and share one
 * value; elsewhere the max contributes exp(0) = 1 and strokes far below it nothing: the exp
 * and log calls, 80 % of a 64 px glyph's time before, are left to the pixels that need them. */
static void join(const REAL *f, int64_t count, int64_t area, double uni, REAL *out) {
    const REAL beyond = (REAL)(OUTSIDE + uni * log((double)count));
    for (int64_t j = 0; j < area; j++) {
        REAL m = f[j];
        for (int64_t c = 1; c < count; c++) m = f[c * area + j] > m ? f[c * area + j] : m;
        if (m == OUTSIDE) {
            out[j] = beyond;
            continue;
        }
        double sum = 0;
        for (int64_t c = 0; c < count; c++) {
            REAL v = f[c * area + j];
            double e = ((double)v - m) / uni;
            if (v == m)
                sum += 1;
            else if (e > NEGLIGIBLE)
                sum += exp(e);
        }
        out[j] = sum == 1 ? m : (REAL)(m + uni * log(sum));
    }
}

/* Fields of glyphs [g0, g1): out (B, L, rows, size); win (B, K, rows, size) or NULL; scratch
 * holds K / L stroke fields of rows x size when strokes are joined (else unused). */
void NAME(glyph_field, SUFFIX)(const REAL *pts, const REAL *rad, int64_t g0, int64_t g1,
                              int64_t k, int64_t n1, int64_t size, int64_t row0, int64_t rows,
                              int64_t layers, double reach, double uni, REAL *out, int32_t *win,
                              REAL *scratch) {
    Shape s = {k, n1, size, row0, rows, layers, reach, uni};
    int64_t area = rows * size, per = k / layers;
    REAL *cx = malloc(size * sizeof(REAL));
    for (int64_t x = 0; x < size; x++) cx[x] = centre(x, size);
    for (int64_t g = g0; g < g1; g++)
        for (int64_t l = 0; l < layers; l++) {
            REAL *o = out + (g * layers + l) * area;
            for (int64_t c = 0; c < per; c++) {
                int64_t j = g * k + l * per + c;
                int32_t *w = win ? win + j * area : NULL;
                stroke(pts + j * n1 * 2, rad + j * n1, &s, cx, per == 1 ? o : scratch + c * area,
                       w);
            }
            if (per > 1) join(scratch, per, area, uni, o);
        }
    free(cx);
}

/* Adds a run's sums s (radius at start, end; start x, y; end x, y) to piece i's points. */
static void flush(double *gp, double *gr, int32_t i, double *s) {
    if (i >= 0) {
        gr[i] += s[0];
        gr[i + 1] += s[1];
        for (int c = 0; c < 4; c++) gp[2 * i + c] += s[2 + c];
    }
    for (int c = 0; c < 6; c++) s[c] = 0;
}

/* Gradients of glyphs [g0, g1) w.r.t. the polyline points and radii (gpts, grad accumulated
 * in double), from the output's gradient `grad` and the output itself (for the soft maximum's
 * weights exp((f - out) / uni)). Per pixel only the winning piece has a gradient:
 *   df/dra = 1 - t, df/drb = t, df/da = (1 - t) n, df/db = t n (n: unit vector from the
 *   nearest point to the pixel; d|d|/dt = 0 at the projection), and where t is not clamped the
 *   radius slope (rb - ra) times dt/da = (2t ab - ab - ap) / |ab|^2, dt/db = (ap - 2t ab) / |ab|^2. */
void NAME(glyph_grad, SUFFIX)(const REAL *pts, const REAL *rad, int64_t g0, int64_t g1,
                             int64_t k, int64_t n1, int64_t size, int64_t row0, int64_t rows,
                             int64_t layers, double uni, const int32_t *win, const REAL *out,
                             const REAL *grad, double *gpts, double *grad_rad) {
    int64_t area = rows * size, per = k / layers;
    for (int64_t g = g0; g < g1; g++)
        for (int64_t j = g * k; j < (g + 1) * k; j++) {
            int64_t o = (g * layers + (j - g * k) / per) * area;
            const REAL *p = pts + j * n1 * 2, *r = rad + j * n1;
            const int32_t *w = win + j * area;
            double *gp = gpts + j * n1 * 2, *gr = grad_rad + j * n1;
            /* Sums of the current run of pixels with one winner, kept in registers: writing
             * each pixel's share to memory chained every pixel on the last one (2x slower). */
            int32_t run = -1;
            double s[6] = {0, 0, 0, 0, 0, 0};
            for (int64_t y = 0; y < rows; y++)
                for (int64_t x = 0; x < size; x++) {
                    int64_t q = y * size + x;
                    int32_t i = w[q];
                    if (i < 0 || grad[o + q] == 0) continue;
                    if (i != run) {
                        flush(gp, gr, run, s);
                        run = i;
                    }
                    REAL ax = p[2 * i], ay = p[2 * i + 1];
                    REAL abx = p[2 * i + 2] - ax, aby = p[2 * i + 3] - ay;
                    REAL ra = r[i], dr = r[i + 1] - ra, l2 = abx * abx + aby * aby;
                    REAL px = centre(x, size) - ax, py = centre(row0 + y, size) - ay;
                    REAL inv = l2 > (REAL)1e-12 ? (REAL)1 / l2 : (REAL)0;
                    REAL t = (px * abx + py * aby) * inv;
                    int free = t >= 0 && t <= 1 && inv > 0;
                    t = t < 0 ? 0 : (t > 1 ? 1 : t);
                    REAL dx = px - t * abx, dy = py - t * aby;
                    REAL dist = sqrt(dx * dx + dy * dy);
                    double gv = grad[o + q];
                    if (per > 1) {
                        double e = ((double)(ra + t * dr - dist) - out[o + q]) / uni;
                        if (e <= NEGLIGIBLE) continue;
                        if (e != 0) gv *= exp(e);
                    }
                    double nx = dist > 0 ? dx / dist : 0, ny = dist > 0 ? dy / dist : 0;
                    double ga = gv * (1 - t), gb = gv * t;
                    s[0] += ga;  /* radius at the piece's start */
                    s[1] += gb;  /* ... and at its end */
                    s[2] += ga * nx;
                    s[3] += ga * ny;
                    s[4] += gb * nx;
                    s[5] += gb * ny;
                    if (free) {
                        double c = gv * dr * inv;
                        s[2] += c * (2 * t * abx - abx - px);
                        s[3] += c * (2 * t * aby - aby - py);
                        s[4] += c * (px - 2 * t * abx);
                        s[5] += c * (py - 2 * t * aby);
                    }
                }
            flush(gp, gr, run, s);
        }
}
