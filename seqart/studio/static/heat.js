// Heat maps on a canvas: a (rows x cols) array of numbers drawn one cell per pixel block.
"use strict";

const Heat = {
  // Blue (-1) through white (0) to red (+1).
  diverging(v) {
    const x = Math.max(-1, Math.min(1, v));
    return x >= 0 ? [255, 255 * (1 - x), 255 * (1 - x)] : [255 * (1 + x), 255 * (1 + x), 255];
  },
  // White (0) to dark (1).
  sequential(v) {
    const x = Math.max(0, Math.min(1, v));
    return [255 * (1 - x), 255 * (1 - 0.85 * x), 255 * (1 - 0.6 * x)];
  },

  // data[t][k]: drawn with t along x (cw pixels each) and k along y (ch pixels each, k = 0 at the top unless flip).
  draw(canvas, data, colour, cw = 3, ch = 1, flip = false) {
    const T = data.length, K = T ? data[0].length : 0;
    canvas.width = Math.max(1, T * cw); canvas.height = Math.max(1, K * ch);
    const ctx = canvas.getContext("2d"), img = ctx.createImageData(canvas.width, canvas.height);
    for (let t = 0; t < T; t++) for (let k = 0; k < K; k++) {
      const [r, g, b] = colour(data[t][k]), row = flip ? K - 1 - k : k;
      for (let y = row * ch; y < (row + 1) * ch; y++) for (let x = t * cw; x < (t + 1) * cw; x++) {
        const i = 4 * (y * canvas.width + x);
        img.data[i] = r; img.data[i + 1] = g; img.data[i + 2] = b; img.data[i + 3] = 255;
      }
    }
    ctx.putImageData(img, 0, 0);
    canvas.dataset.rows = K; canvas.dataset.cols = T;
  },
};
