"""Side-by-side PyTorch peer of `npm run bench -- u2pl` (bench/peer.ts drives it).

One JSON object per line on stdin, one JSON reply per line on stdout:
  {"cmd": "init", "spec": {...}}    build student and teacher (bench/peer/model.py), load the
                                     exported weights into both, SGD with backbone/head groups
  {"cmd": "check"}                  eval-mode forward of the exported input; max |ours - peer|
  {"cmd": "step", "kind": "sup" | "u2pl", "precision": "fp32" | "bf16"}   one timed step
  {"cmd": "quit"}
A failure is answered with {"error": "..."}; the driver then reports the peer as failed.

The U2PL-shaped step: teacher eval forward on the unlabeled batch, pseudo-labels, CutMix (one coin
per step), student forward on labeled + unlabeled, teacher train-mode forward without gradient,
supervised CE + entropy-filtered unsupervised CE (U2PL's rule: drop the most uncertain share) + a
stand-in contrastive loss (per class: queries from the student representation, the teacher's class
mean as positive, negatives from other classes' teacher features, as U2PL's query/negative counts),
backward, SGD, parameter EMA. bf16 runs the forwards and losses under torch.autocast("cpu").
"""
import json
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from model import SegNet  # noqa: E402

IGNORE = 255


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        if e["dtype"] != "F32":
            raise ValueError(f"{name}: only F32 tensors are exchanged, got {e['dtype']}")
        a, b = e["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(raw, np.float32, (b - a) // 4, 8 + n + a).reshape(e["shape"]).copy())
    return out


def blocky_labels(gen, n, size, classes):
    """Labels in 8x8 cells, ~5 % ignore, like the bench's synthetic batch."""
    cells = (size + 7) // 8
    cell = torch.randint(0, classes, (n, cells, cells), generator=gen)
    cell[torch.rand(n, cells, cells, generator=gen) < 0.05] = IGNORE
    return cell.repeat_interleave(8, 1).repeat_interleave(8, 2)[:, :size, :size].contiguous()


class Peer:
    def __init__(self, spec):
        self.spec = spec
        torch.set_num_threads(spec["threads"])
        torch.manual_seed(spec["seed"])
        weights = read_safetensors(spec["weights"])
        self.check_data = {k: weights.pop(k) for k in ("input", "logits", "rep")}
        m, classes = spec["model"], spec["classes"]
        self.student, self.teacher = SegNet(m, classes), SegNet(m, classes)
        for net in (self.student, self.teacher):
            missing, unexpected = net.load_state_dict(weights, strict=False)
            missing = [k for k in missing if not k.endswith("num_batches_tracked")]
            if missing or unexpected:
                raise ValueError(f"weights do not fit the peer network: missing {missing[:5]}, unexpected {unexpected[:5]}")
            for p in net.parameters():
                p.requires_grad_(net is self.student)
        t = spec["train"]
        groups = [
            {"params": list(self.student.backbone.parameters()), "lr": t["lr"]},
            {"params": list(self.student.decoder.parameters()), "lr": t["lr"] * t["head_lr_mult"]},
        ]
        self.sgd = torch.optim.SGD(groups, lr=t["lr"], momentum=t["momentum"], weight_decay=t["weight_decay"])
        gen = torch.Generator().manual_seed(spec["seed"])
        crop, nl, nu = spec["crop"], t["batch_size"], t["unlabeled_batch_size"]
        self.xl = torch.randn(nl, 3, crop, crop, generator=gen)
        self.yl = blocky_labels(gen, nl, crop, classes)
        self.xu = torch.randn(nu, 3, crop, crop, generator=gen)
        self.gen = gen

    def check(self):
        self.student.eval()
        with torch.no_grad():
            x = self.check_data["input"].permute(0, 3, 1, 2).contiguous()
            logits, rep = self.student(x)
        out = {}
        for name, peer in (("logits", logits), ("rep", rep)):
            ours = self.check_data[name].permute(0, 3, 1, 2)
            if tuple(ours.shape) != tuple(peer.shape):
                raise ValueError(f"{name}: our shape {tuple(ours.shape)} differs from the peer's {tuple(peer.shape)}")
            out[name] = {"max_abs_diff": float((ours - peer).abs().max()), "max_abs": float(peer.abs().max())}
        return out

    def autocast(self, precision):
        return torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16")

    def sgd_step(self, loss):
        self.sgd.zero_grad(set_to_none=True)
        loss.backward()
        self.sgd.step()

    def sup_step(self, precision):
        self.student.train()
        size = self.yl.shape[1:]
        with self.autocast(precision):
            logits, _ = self.student(self.xl)
            loss = F.cross_entropy(F.interpolate(logits, size, mode="bilinear", align_corners=True).float(), self.yl,
                                   ignore_index=IGNORE)
        self.sgd_step(loss)

    def u2pl_step(self, precision):
        s, nl = self.spec["u2pl"], self.xl.shape[0]
        size = self.yl.shape[1:]
        up = lambda t: F.interpolate(t, size, mode="bilinear", align_corners=True).float()  # noqa: E731
        with self.autocast(precision):
            with torch.no_grad():
                self.teacher.eval()
                pl = up(self.teacher(self.xu)[0]).argmax(1)
                xu, pl = self.cutmix(self.xu, pl)
            self.student.train()
            x = torch.cat([self.xl, xu])
            logits, rep = self.student(x)
            with torch.no_grad():
                self.teacher.train()
                t_logits, t_rep = self.teacher(x)
            sup = F.cross_entropy(up(logits[:nl]), self.yl, ignore_index=IGNORE)
            unsup = self.unsup_loss(up(logits[nl:]), pl, up(t_logits[nl:]), s["drop_percent"])
            loss = sup + s["unsup_weight"] * unsup
            if s["contrastive"]:
                small = F.interpolate(torch.cat([self.yl, pl]).unsqueeze(1).float(), rep.shape[2:], mode="nearest")
                loss = loss + self.contrastive(rep.float(), t_rep.float(), small.squeeze(1).long(), s)
        self.sgd_step(loss)
        with torch.no_grad():
            d = s["ema_decay"]
            for tp, sp in zip(self.teacher.parameters(), self.student.parameters()):
                tp.mul_(d).add_(sp, alpha=1 - d)

    def cutmix(self, xu, pl):
        """With probability cutmix_p: sample i takes a half-area box from sample (i + 1) mod n."""
        if torch.rand(1, generator=self.gen).item() >= self.spec["u2pl"]["cutmix_p"]:
            return xu, pl
        n, _, h, w = xu.shape
        bh, bw = int(h * 0.5 ** 0.5), int(w * 0.5 ** 0.5)
        top = int(torch.randint(0, h - bh + 1, (1,), generator=self.gen))
        left = int(torch.randint(0, w - bw + 1, (1,), generator=self.gen))
        xu, pl = xu.clone(), pl.clone()
        xu[:, :, top:top + bh, left:left + bw] = xu.roll(-1, 0)[:, :, top:top + bh, left:left + bw]
        pl[:, top:top + bh, left:left + bw] = pl.roll(-1, 0)[:, top:top + bh, left:left + bw]
        return xu, pl

    @staticmethod
    def unsup_loss(pred, target, teacher_pred, drop_percent):
        """CE on pseudo-labels with the drop_percent most uncertain (teacher entropy) pixels ignored."""
        with torch.no_grad():
            prob = torch.softmax(teacher_pred, 1)
            entropy = -(prob * torch.log(prob + 1e-10)).sum(1)
            valid = target != IGNORE
            thresh = np.percentile(entropy[valid].cpu().numpy().flatten(), drop_percent)
            target = target.clone()
            target[entropy.ge(float(thresh)) & valid] = IGNORE
            weight = target.numel() / max(int((target != IGNORE).sum()), 1)
        return weight * F.cross_entropy(pred, target, ignore_index=IGNORE)

    def contrastive(self, rep, t_rep, labels, s):
        d = rep.shape[1]
        fs = F.normalize(rep.permute(0, 2, 3, 1).reshape(-1, d), dim=1)
        ft = F.normalize(t_rep.permute(0, 2, 3, 1).reshape(-1, d), dim=1)
        lab = labels.reshape(-1)
        q, k = s["num_queries"], s["num_negatives"]
        losses = []
        for c in lab.unique().tolist():
            if c == IGNORE:
                continue
            pos = (lab == c).nonzero().squeeze(1)
            neg = ((lab != c) & (lab != IGNORE)).nonzero().squeeze(1)
            if len(neg) == 0:
                continue
            anchors = fs[pos[torch.randint(len(pos), (q,), generator=self.gen)]]
            proto = ft[pos].mean(0).expand(q, 1, d)
            negatives = ft[neg[torch.randint(len(neg), (q * k,), generator=self.gen)]].reshape(q, k, d)
            sims = F.cosine_similarity(anchors.unsqueeze(1), torch.cat([proto, negatives], 1), dim=2)
            losses.append(F.cross_entropy(sims / s["temperature"], torch.zeros(q, dtype=torch.long)))
        return torch.stack(losses).mean() if losses else rep.sum() * 0

    def step(self, kind, precision):
        t0 = time.perf_counter()
        (self.sup_step if kind == "sup" else self.u2pl_step)(precision)
        return time.perf_counter() - t0


def bf16_support():
    """None when bf16 autocast runs fast here, else why not (one line). Without bf16 instructions
    PyTorch 1.13 still runs it, on fallbacks some 20x slower than fp32: no fair peer then."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), None)
        if flags is not None and "avx512_bf16" not in flags and "amx_bf16" not in flags:
            return "the CPU has neither avx512_bf16 nor amx_bf16 (PyTorch would run bf16 on slow fallbacks)"
    except OSError:
        pass
    try:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            torch.nn.functional.conv2d(torch.randn(1, 8, 8, 8), torch.randn(8, 8, 3, 3))
        return None
    except RuntimeError as e:
        return str(e).strip().splitlines()[0]


def cpu_capability():
    """The vector ISA PyTorch's own kernels use, e.g. AVX2."""
    for line in torch.__config__.show().splitlines():
        if "CPU capability usage:" in line:
            return line.split(":", 1)[1].strip()
    return None


def main():
    peer = None
    for line in sys.stdin:
        msg = json.loads(line)
        try:
            if msg["cmd"] == "init":
                peer = Peer(msg["spec"])
                reply = {"torch": torch.__version__, "threads": torch.get_num_threads(), "capability": cpu_capability(),
                         "bf16_unsupported": bf16_support()}
            elif msg["cmd"] == "check":
                reply = peer.check()
            elif msg["cmd"] == "step":
                reply = {"seconds": peer.step(msg["kind"], msg.get("precision", "fp32"))}
            elif msg["cmd"] == "quit":
                return
            else:
                reply = {"error": f"unknown command {msg['cmd']}"}
        except Exception as e:  # reported to the driver, which prints it as the peer's failure
            reply = {"error": f"{type(e).__name__}: {e}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
