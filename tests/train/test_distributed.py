import subprocess
import sys
from pathlib import Path

from live_snn.model import load_checkpoint

WORKER = Path(__file__).with_name("ddp_worker.py")


def test_torchrun_two_gloo_processes_complete_an_epoch(tmp_path):
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
           "--standalone", str(WORKER), str(tmp_path)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    rank0 = (tmp_path / "rank0.sha").read_text().split()
    rank1 = (tmp_path / "rank1.sha").read_text().split()
    assert rank0 == rank1  # same step count, identical replicas
    ckpt = load_checkpoint(tmp_path / "last.safetensors")
    assert ckpt.training["world_size"] == 2
    assert ckpt.training["epochs"] == 1.0
