/**
 * WebAssembly binaries rewritten to run on a SHARED memory, so that worker threads can compute on
 * tfjs's tensors in place (`gemm_pool.ts`): tfjs's SIMD module with its own memory made shared,
 * and the kit's modules with their imported memory declared shared.
 *
 * A memory's type is its limits: a flag byte (bit 0: a maximum follows the minimum, bit 1:
 * shared), the minimum and the maximum in pages as LEB128 numbers. A shared memory needs a
 * maximum. Nothing else in a module depends on whether its memory is shared: plain loads and
 * stores compute the same on a `SharedArrayBuffer` (tfjs's module in
 * `tests/bench/shared_memory.ts`: the same sums, 0.97–1.09x the time). They are a little slower
 * on it under Deno, whose bounds checks are explicit and, on a memory that may grow, reload its
 * size (`tests/bench/bounds_checks.ts`; a 2-D sampling run 3–5 % slower; docs/performance.md, "A
 * shared memory that cannot grow").
 *
 * - {@link withSharedMemory}: a module that defines its memory with a maximum (tfjs's
 *   `tfjs-backend-wasm-simd.wasm`: 256 pages, at most 65,536): the flag byte 1 becomes 3, one byte.
 * - {@link withSharedMemoryImport}: a module that imports `env.memory` (the kit's, `(memory 1)`):
 *   the import's limits become shared with a maximum of 65,536 pages (4 GiB, tfjs's own maximum),
 *   which lengthens the import section by the maximum's bytes.
 *
 * No runtime import of tfjs (the pool's worker threads load this module too).
 * @module
 */

/** The largest memory WebAssembly allows (pages of 64 KiB), tfjs's maximum too. */
export const MAX_PAGES = 65536;

/** LEB128 encoding of an unsigned integer. */
function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

/** The arrays one after another in a new array. */
function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A reader of unsigned LEB128 numbers over `bytes`, from byte `at`. */
function reader(bytes: Uint8Array, at: number) {
  const r = {
    at,
    u32(): number {
      let v = 0;
      for (let s = 0;; s += 7) {
        if (r.at >= bytes.length || s > 28) throw new Error("malformed LEB128 number");
        const b = bytes[r.at++];
        v |= (b & 0x7f) << s;
        if (b < 0x80) return v >>> 0;
      }
    },
  };
  return r;
}

/** The sections of a module: id, start of the contents and their size. */
function sections(bytes: Uint8Array): { id: number; start: number; size: number; head: number }[] {
  if (
    bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 ||
    bytes[3] !== 0x6d
  ) {
    throw new Error("not a WebAssembly module (no \\0asm header)");
  }
  const out = [];
  const r = reader(bytes, 8);
  while (r.at < bytes.length) {
    const head = r.at;
    const id = bytes[r.at++];
    const size = r.u32();
    out.push({ id, start: r.at, size, head });
    r.at += size;
  }
  return out;
}

/**
 * `bytes` with the memory the module defines made shared (limits flag 1 → 3); throws when the
 * module defines no memory, more than one, or one without a maximum (which a shared memory
 * needs). Returns a copy; `bytes` is not changed.
 * @example
 * ```ts
 * const shared = withSharedMemory(Deno.readFileSync("tfjs-backend-wasm-simd.wasm"));
 * new WebAssembly.Module(shared); // its memory is a SharedArrayBuffer once instantiated
 * ```
 */
export function withSharedMemory(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(bytes);
  const mem = sections(out).find((s) => s.id === 5);
  if (!mem) throw new Error("the module defines no memory (no memory section)");
  const r = reader(out, mem.start);
  if (r.u32() !== 1) throw new Error("the module defines more than one memory");
  const flag = out[r.at];
  if (flag === 3) return out;
  if (flag !== 1) {
    throw new Error(`the module's memory has limits flag ${flag}; a maximum (flag 1) is needed`);
  }
  out[r.at] = 3;
  return out;
}

/**
 * `bytes` with its import `env.memory` declared shared, with the same minimum and a maximum of
 * {@link MAX_PAGES} (limits flag 3); throws when it imports no such memory. Returns a new array.
 * @example
 * ```ts
 * const module = new WebAssembly.Module(withSharedMemoryImport(kitBytes));
 * new WebAssembly.Instance(module, { env: { memory: sharedMemory } });
 * ```
 */
export function withSharedMemoryImport(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const imp = sections(bytes).find((s) => s.id === 2);
  if (!imp) throw new Error("the module imports nothing (no import section)");
  const r = reader(bytes, imp.start);
  const dec = new TextDecoder();
  const name = () => {
    const n = r.u32();
    const s = dec.decode(bytes.subarray(r.at, r.at + n));
    r.at += n;
    return s;
  };
  const count = r.u32();
  for (let i = 0; i < count; i++) {
    const module = name(), field = name();
    const kind = bytes[r.at++];
    if (kind === 0) r.u32(); // a function: its type index
    else if (kind === 1 || kind === 2) {
      if (kind === 1) r.at++; // a table: its element type, then limits
      const flagAt = r.at, flag = bytes[r.at++];
      const min = r.u32();
      if (flag & 1) r.u32();
      if (kind === 2 && module === "env" && field === "memory") {
        const limits = flag & 2
          ? bytes.subarray(flagAt, r.at)
          : new Uint8Array([3, ...leb(min), ...leb(MAX_PAGES)]);
        const before = bytes.subarray(imp.start, flagAt);
        const after = bytes.subarray(r.at, imp.start + imp.size);
        const size = leb(before.length + limits.length + after.length);
        return concat(
          bytes.subarray(0, imp.head),
          new Uint8Array([2, ...size]),
          before,
          limits,
          after,
          bytes.subarray(imp.start + imp.size),
        );
      }
    } else if (kind === 3) r.at += 2; // a global: value type and mutability
    else throw new Error(`import ${module}.${field} has an unknown kind ${kind}`);
  }
  throw new Error("the module does not import env.memory");
}
