#!/usr/bin/env bash
# The one command for a machine with an NVIDIA GPU: everything the CPU-only machines cannot
# check, in one report file (default gpu_check_report.md, or $1; under $OUT if it is set).
#
#   bash benchmarks/gpu_check.sh [REPORT]
#
# It needs only what a GPU machine with CuPy already has (python3 with cupy-cuda12x or
# cupy-cuda13x, pytest and hypothesis; torch optional, as the oracle and the benchmark's
# reference): nothing is downloaded. Within about 8 minutes on one GPU it runs
#   1. the device-parametrized test suite on the real "cuda" device, and tests/test_cuda.py
#      (on two GPUs if there are two, else on two simulated ones),
#   2. the MyReLU and digits examples with --device cuda,
#   3. python -m benchmarks --device cuda (against PyTorch CUDA when torch is importable),
#   4. python -m benchmarks.cuda_graphs: autodiff.compile's step launched as a CUDA graph
#      against the plain compiled replay, eager autodiff and PyTorch CUDA eager (seed and
#      big MLP), with the number of graph launches and any CUDAGraphBreak warning.
set -u
cd "$(dirname "$0")/.."
report="${1:-${OUT:+$OUT/}gpu_check_report.md}"
py="${PYTHON:-python3}"
export HYPOTHESIS_PROFILE=ci
: > "$report"
section() { printf '\n## %s\n\n```\n' "$1" >> "$report"; }
endsection() { printf '```\n' >> "$report"; }
run() {  # run "title" timeout command...: its last 60 lines and exit code go in the report
    local title="$1" limit="$2"; shift 2
    section "$title"
    local start=$SECONDS
    timeout "$limit" "$@" > /tmp/gpu_check_step.log 2>&1
    local rc=$?
    tail -n 60 /tmp/gpu_check_step.log >> "$report"
    printf '[exit %s, %s s]\n' "$rc" "$((SECONDS - start))" >> "$report"
    endsection
}

{
    echo "# autodiff GPU check"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "- GPUs: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | paste -sd ';' - || echo 'nvidia-smi not found')"
} >> "$report"

"$py" -m pip install -q --no-deps -e . > /dev/null 2>&1 || echo "(pip install --no-deps -e . failed; using the tree as is)" >> "$report"
run "Environment" 60 "$py" -c "
import autodiff, backends.cupy_backend as cb
cp = cb.import_cupy()
print('cupy', cp.__version__, '| devices', cp.cuda.runtime.getDeviceCount(), '|', autodiff.cuda.get_device_name(0))
try:
    import torch; print('torch', torch.__version__, '| cuda', torch.cuda.is_available())
except ImportError:
    print('torch: not installed (oracle tests and the PyTorch column are skipped)')
"
run "Device-parametrized tests on cuda, and tests/test_cuda.py" 330 \
    "$py" -m pytest -q -p no:cacheprovider -k "cuda" tests
run "examples/myrelu_two_layer.py --device cuda" 60 "$py" examples/myrelu_two_layer.py --device cuda
run "examples/digits.py --device cuda --epochs 3" 90 "$py" examples/digits.py --device cuda --epochs 3
run "python -m benchmarks --device cuda --quick" 150 "$py" -m benchmarks --device cuda --quick
run "CUDA graphs: python -m benchmarks.cuda_graphs" 150 "$py" -m benchmarks.cuda_graphs
echo "report: $report"
