#!/usr/bin/python3
"""Instruction mix of the simd tile kernels' hot loops (issue 12): builds the
simd test binary, disassembles the named kernels (GNU objdump; Go's own
disassembler does not decode VEX), extracts each loop's common path (the
soft-min's raise branch not taken) and prints per 8 pairs: instructions,
µops by Zen 3 pipe class, the throughput bound of that mix (largest of
multiply-pipe µops / 2, add-pipe µops / 2, 256-bit loads / 2, instructions / 6)
and, with llvm-mca installed (Debian `llvm`), its block throughput and
simulated cycles for -mcpu=znver3 (256-bit kernels; llvm-mca 14 counts a
256-bit FMA as one per cycle where Zen 3 does two: pessimistic) or
-mcpu=skylake-avx512 (512-bit kernels; --mcpu overrides both). For the
512-bit kernels the bound is that of Intel's AVX-512 cores instead: every
512-bit vector µop issues on ports 0 and 5 (largest of vector µops / 2,
loads / 2, instructions / 6). Run from the repository root:

  bench/simdloops.py [--bin simd.test] [--groups 2] [--mcpu CPU] [KERNEL...]   (default: the D=3, p=2 soft-min kernels)

Kernels are named as in simd/kern_*.go, e.g. smF32x8D3P2G0 (soft-min),
sbF32x16D3P2 (fused update); the pairs per loop iteration are the vector
width (from the name) times --groups.
"""
import argparse, os, re, shutil, subprocess, sys, tempfile

PKG = 'github.com/libgeomloss/libgeomloss/simd.'


def disasm(binary, fn):
    nm = subprocess.run(['go', 'tool', 'nm', '-size', binary], capture_output=True, text=True, check=True).stdout
    for line in nm.splitlines():
        f = line.split()
        if len(f) >= 4 and f[3] == PKG + fn:
            start, size = int(f[0], 16), int(f[1])
            break
    else:
        sys.exit(f'{fn}: not in {binary}')
    out = subprocess.run(['objdump', '-d', '--no-show-raw-insn', f'--start-address={start}',
                          f'--stop-address={start + size}', binary], capture_output=True, text=True, check=True).stdout
    ins = []
    for line in out.splitlines():
        m = re.match(r'\s*([0-9a-f]+):\t(.*)', line)
        if m:
            ins.append((int(m.group(1), 16), re.sub(r'<.*>', '', m.group(2)).strip()))
    return ins


def hot_loop(ins):
    """The main loop: with a conditional back edge (kernels whose loop
    advances its array pointers, simd/gen "bumpstep"), the widest such loop,
    less the raise branch (from the first je to its target). Otherwise (the
    older layout) the loop head is the target of the function's first
    unconditional jump; the common path runs from it to the raise check's je,
    then from the je's target back to the head."""
    idx = {a: i for i, (a, _) in enumerate(ins)}
    tgt = lambda s: int(s.split()[1], 16)
    back = [(i - idx[tgt(s)], idx[tgt(s)], i) for i, (a, s) in enumerate(ins)
            if re.match(r'j(?!mp)[a-z]+ ', s) and tgt(s) in idx and tgt(s) < a]
    if back:
        _, ih, ie = max(back)
        body = ins[ih:ie + 1]
        je = next((k for k, (_, s) in enumerate(body) if s.startswith('je ')), None)
        if je is not None and tgt(body[je][1]) in idx and ih < idx[tgt(body[je][1])] <= ie:
            body = body[:je + 1] + ins[idx[tgt(body[je][1])]:ie + 1]
        return [s for _, s in body if not re.match(r'(j[a-z]+|nop)', s)]
    i0 = next(i for i, (_, s) in enumerate(ins) if s.startswith('jmp'))
    ih = idx[tgt(ins[i0][1])]
    ije = next(i for i in range(ih, len(ins)) if ins[i][1].startswith('je '))
    body = ins[ih:ije + 1]
    iy = idx[tgt(ins[ije][1])]
    if ins[iy + 1][1].startswith('jmp'):
        body += [ins[iy]]
        iy = idx[tgt(ins[iy + 1][1])]
    body += ins[iy:ih]
    return [s for _, s in body if not re.match(r'(j[a-z]+|nop)', s)]


def classify(body):
    c = dict(mul=0, add=0, vint=0, shift=0, load=0, store=0, other=0)
    for s in body:
        op, args = s.split()[0], s.split(None, 1)[1] if ' ' in s else ''
        ops = args.split(',')
        if op.startswith('vmov') and op != 'vmovmskps' and '(' in ops[0]:
            c['load'] += 1
        elif op.startswith('vmov') and '(' in ops[-1]:
            c['store'] += 1
        elif re.match(r'vmov(dq|ap|up)', op):
            c['other'] += 1  # register copy, eliminated at rename
        elif re.match(r'vf(n)?m(add|sub)|vmul|vmax|vmin(p[sd])|vcmp|vblendv|vrsqrt|vsqrt|vdiv|vperm', op):
            c['mul'] += 1
        elif re.match(r'vadd|vsub|vround|vcvt|vmovmsk', op):
            c['add'] += 1
        elif re.match(r'vps[lr]|vpsra', op):
            c['shift'] += 1
        elif op.startswith('vp'):
            c['vint'] += 1
        else:
            c['other'] += 1
    return c


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--bin')
    ap.add_argument('--groups', type=int, default=2, help='column groups per loop iteration (1 before issue 12)')
    ap.add_argument('--mcpu', help='llvm-mca CPU for every kernel (default: znver3 for 256-bit, skylake-avx512 for 512-bit)')
    ap.add_argument('kernels', nargs='*', default=['smF32x8D3P2G0', 'smF32x8D3P2G1', 'smF64x4D3P2G0', 'smF64x4D3P2G1'])
    a = ap.parse_args()
    tmp = tempfile.mkdtemp()
    binary = a.bin
    if not binary:
        binary = os.path.join(tmp, 'simd.test')
        env = dict(os.environ, GOEXPERIMENT=os.environ.get('GOEXPERIMENT', 'simd'))
        subprocess.run(['go', 'test', '-c', '-o', binary, './simd'], check=True, env=env)
    mca = shutil.which('llvm-mca')
    print(f'{"kernel":16s} {"instr":>6s} {"mul":>5s} {"add":>5s} {"int":>5s} {"loads":>6s}  {"bound":>14s}  llvm-mca (per 8 pairs)')
    for k in a.kernels:
        m = re.match(r'(sm|ks|sb)F(32|64)x(\d+)', k)
        if not m:
            sys.exit(f'{k}: not a kernel name (sm|ks|sb)F(32|64)x<width>...')
        wide = int(m.group(2)) * int(m.group(3)) == 512
        pairs = a.groups * int(m.group(3))
        body = hot_loop(disasm(binary, k))
        c = classify(body)
        f = 8 / pairs
        n = len(body)
        fp = c['mul'] + c['add'] + c['vint'] + c['shift']
        if wide:
            bound = max(fp / 2, c['load'] / 2, n / 6) * f
        else:
            bound = max(c['mul'] / 2, c['add'] / 2, fp / 4, c['load'] / 2, n / 6) * f
        line = (f'{k:16s} {n * f:6.1f} {c["mul"] * f:5.1f} {c["add"] * f:5.1f} {(c["vint"] + c["shift"]) * f:5.1f} '
                f'{c["load"] * f:6.1f}  {bound:5.2f} cyc {8 / bound:4.2f}/c')
        if mca:
            s = os.path.join(tmp, k + '.s')
            open(s, 'w').write('\n'.join(body) + '\n')
            cpu = a.mcpu or ('skylake-avx512' if wide else 'znver3')
            r = subprocess.run([mca, f'-mcpu={cpu}', '-iterations=300', s], capture_output=True, text=True)
            tc = re.search(r'Total Cycles:\s+(\d+)', r.stdout)
            if not tc:
                sys.exit(f'{k}: llvm-mca -mcpu={cpu} failed: {r.stderr.strip()[:300]}')
            cyc = int(tc.group(1)) / 300
            rt = float(re.search(r'Block RThroughput:\s+([\d.]+)', r.stdout).group(1))
            line += f'  {cpu}: RThroughput {rt * f:5.2f}  simulated {cyc * f:5.2f} cycles'
        print(line)
    shutil.rmtree(tmp)


main()
