import { describe, expect, it } from "vitest";

import { boxFromCorners, fitViewport, movePoints, moveBox, pointInPolygon, polygonArea, resizeBox, toImage, toScreen, zoomAt } from "./geometry";

const size = { width: 640, height: 480 };

describe("boxes", () => {
  it("spans two corners dragged right to left and up, clipped to the image", () => {
    expect(boxFromCorners({ x: 700, y: 100 }, { x: 600.123, y: -5 }, size)).toEqual({ x: 600.12, y: 0, width: 39.88, height: 100 });
  });

  it("moves a box but never past the image edge", () => {
    expect(moveBox({ x: 600, y: 10, width: 30, height: 20 }, 50, -30, size)).toEqual({ x: 610, y: 0, width: 30, height: 20 });
  });

  it("resizes from a corner, keeps the opposite one, and flips when dragged across", () => {
    const box = { x: 100, y: 100, width: 50, height: 40 };
    expect(resizeBox(box, "se", { x: 200, y: 180 }, size)).toEqual({ x: 100, y: 100, width: 100, height: 80 });
    expect(resizeBox(box, "e", { x: 80, y: 999 }, size)).toEqual({ x: 80, y: 100, width: 20, height: 40 });
  });
});

describe("polygons", () => {
  const square: [number, number][] = [[0, 0], [10, 0], [10, 10], [0, 10]];

  it("computes the shoelace area with its winding sign", () => {
    expect(polygonArea(square)).toBe(100);
    expect(polygonArea([...square].reverse())).toBe(-100);
    expect(polygonArea([[0, 0], [5, 5], [10, 10]])).toBe(0);
  });

  it("tells points inside from outside", () => {
    expect(pointInPolygon({ x: 5, y: 5 }, square)).toBe(true);
    expect(pointInPolygon({ x: 15, y: 5 }, square)).toBe(false);
  });

  it("moves all points together, stopping at the image edge", () => {
    expect(movePoints(square, -5, 3, size)).toEqual([[0, 3], [10, 3], [10, 13], [0, 13]]);
  });
});

describe("viewport", () => {
  it("fits a wide image into the view, centred", () => {
    expect(fitViewport({ width: 1000, height: 500 }, { width: 532, height: 532 })).toEqual({ scale: 0.5, x: 16, y: 141 });
  });

  it("zooms around the pointer: the image point under it stays put", () => {
    const v = { scale: 1, x: 10, y: 20 };
    const anchor = { x: 200, y: 150 };
    const before = toImage(v, anchor);
    const after = zoomAt(v, 2.5, anchor);
    expect(after.scale).toBe(2.5);
    expect(toScreen(after, before).x).toBeCloseTo(200);
    expect(toScreen(after, before).y).toBeCloseTo(150);
  });

  it("clamps the zoom", () => {
    expect(zoomAt({ scale: 30, x: 0, y: 0 }, 10, { x: 0, y: 0 }).scale).toBe(40);
  });
});
