/** Index of the last element of ascending `starts` at or below x; -1 when there is none.
 * The look-up behind every address-to-range table (maps, modules, FDEs, symbols, lines). */
export function lastAtOrBelow<T extends number | bigint>(starts: ArrayLike<T>, x: T): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (starts[mid] <= x) lo = mid + 1;
    else hi = mid - 1;
  }
  return hi;
}
