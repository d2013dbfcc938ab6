import assert from "node:assert/strict";
import {
  blasRefusal,
  classifyBlas,
  findTorchPython,
  probeTorch,
  referenceEnv,
  spread,
} from "../../lib/tools/bench/reference.ts";
import { parseThreadList } from "../../lib/tools/cli/bench.ts";
import { assertThrowsMatching } from "../../lib/tools/testing/assert.ts";

Deno.test("referenceEnv removes the OpenBLAS core-type overrides and sets the thread counts", () => {
  const { env, unset } = referenceEnv(2, {
    PATH: "/usr/bin",
    OPENBLAS_CORETYPE: "Haswell",
    OPENBLAS_L2_SIZE: "512",
    OMP_NUM_THREADS: "7",
  });
  assert.deepEqual(unset, ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"]);
  assert.deepEqual(env, {
    PATH: "/usr/bin",
    OMP_NUM_THREADS: "2",
    OPENBLAS_NUM_THREADS: "2",
    MKL_NUM_THREADS: "2",
  });
  assert.deepEqual(referenceEnv(1, { PATH: "/x" }).unset, []);
  assertThrowsMatching(() => referenceEnv(0, {}), /threads must be an integer >= 1; got 0/);
});

Deno.test("classifyBlas tells OpenBLAS, MKL and Debian's reference BLAS apart", () => {
  const ob = "/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3";
  assert.equal(
    classifyBlas(
      [ob, "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblasp-r0.3.21.so"],
      "generic",
    ),
    "OpenBLAS",
  );
  assert.equal(
    classifyBlas(["/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0"], "generic"),
    "reference",
  );
  assert.equal(classifyBlas(["/usr/lib/libblas.so.3"], null), "reference");
  assert.equal(classifyBlas([], "mkl"), "MKL");
  assert.equal(classifyBlas([], null), "unknown");
});

Deno.test("blasRefusal: one line naming the fix for the reference BLAS, nothing for OpenBLAS", () => {
  const base = {
    torch: "1.13",
    libs: ["/usr/lib/x86_64-linux-gnu/blas/libblas.so.3"],
    threads: 1,
    blasThreads: null,
    blasInfo: "generic",
  };
  const line = blasRefusal({ ...base, blas: "reference" });
  assert.ok(line);
  assert.ok(!line.includes("\n"));
  assert.match(line, /apt-get install libopenblas0-pthread/);
  assert.equal(blasRefusal({ ...base, blas: "OpenBLAS" }), null);
});

Deno.test("spread is (max - min) / median, null for one run", () => {
  assert.equal(spread([1]), null);
  assert.equal(spread([1, 2, 3]), 1);
  assert.ok(Math.abs(spread([9, 10, 11])! - 0.2) < 1e-12);
});

Deno.test("parseThreadList: integers and all, deduplicated, bad entries named", () => {
  assert.deepEqual(parseThreadList("1,all", 2), [1, 2]);
  assert.deepEqual(parseThreadList("1,all", 1), [1]);
  assert.deepEqual(parseThreadList(" 4 , 2 ", 8), [4, 2]);
  assertThrowsMatching(() => parseThreadList("0", 2), /--threads: "0" is not an integer/);
  assertThrowsMatching(() => parseThreadList("two", 2), /"two"/);
  assertThrowsMatching(() => parseThreadList(",", 2), /at least one/);
});

const py = await findTorchPython();

Deno.test({
  name:
    "probeTorch (torch installed): the BLAS is named and OpenBLAS runs with the threads asked for",
  ignore: py === null,
  fn: async () => {
    const info = await probeTorch(py!, 1);
    assert.equal(info.threads, 1);
    assert.ok(info.libs.length > 0 || info.blasInfo !== null);
    if (info.blas === "OpenBLAS") assert.equal(info.blasThreads, 1);
  },
});
