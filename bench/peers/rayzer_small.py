#!/usr/bin/env python3
"""PyTorch peer of the `small` RayZer and its stage-1 train step (bench/peers/README.md).

Mirrors, module for module, src/model/{tokens,cameraEstimator,sceneEncoder,renderer,transformer,rayzer}.ts,
src/engine/layers.ts, src/geometry/{rays,rotations,cameras}.ts, src/train/{step,losses}.ts and
src/engine/optim.ts at the `small` presets of src/model/config.ts and src/train/config.ts, so that one train step
does the same matmuls (same shapes, same FLOPs) and holds the same parameters (1,500,170) as the jax-js model.
Written for PyTorch 1.13 (Debian's python3-torch): no F.scaled_dot_product_attention, no nn.RMSNorm, no bias-free
nn.LayerNorm, so attention and the norms are written out like the TypeScript does.

Rows it times (like bench/rayzer.bench.ts):
  train    one stage-1 step on a batch of B scenes × 6 views: forward, MSE over the 2 rendered targets, backward,
           global-norm clip (1.0), warm-up + cosine lr, AdamW (0.9/0.95, wd 0.05 on matrices only).
           `--with-inputs` also renders the 2 input views (the first `renderInputsUntil` = 600 steps).
  forward  inference (torch.no_grad) of the batch rendering all 4 targets (`runRayZer` with the default render).

    OMP_NUM_THREADS=2 LD_LIBRARY_PATH=/work/ob/usr/lib/x86_64-linux-gnu/openblas-openmp \
        /usr/bin/python3 bench/peers/rayzer_small.py --json
    ... --blas-check          time a 1024² matmul and list the BLAS this process mapped
    ... --check ref.bin       parity with jax-js (ref.bin from bench/peers/export_reference.ts)

On a machine shared with another busy process, add OMP_WAIT_POLICY=PASSIVE (README.md: libgomp's spin-waiting
makes 2-thread steps 5–50× slower when the second core is taken).
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# src/model/config.ts SMALL and src/train/config.ts SMALL_TRAIN
SMALL = dict(
    image_size=32, patch=8, d=128, heads=4, mlp_ratio=4, eps=1e-5, views=6, input_views=2,
    layers=dict(camera=2, encoder=2, renderer=2), scene_tokens=32, renderer_reads="latentAndInputs",
    view_index_embedding=True, focal_init=1.25, camera_registers=2,
)
# src/model/config.ts MODEL_PRESETS.paper (forward timing only: --preset paper --mode forward)
PAPER = dict(
    SMALL, image_size=256, patch=16, d=768, heads=12, views=8, layers=dict(camera=12, encoder=8, renderer=12),
    scene_tokens=768, renderer_reads="latent", view_index_embedding=True, camera_registers=0,
)
SMALL_TRAIN = dict(
    steps=3600, batch=8, lr=5e-4, beta1=0.9, beta2=0.95, eps=1e-8, weight_decay=0.05, clip_norm=1.0,
    warmup_steps=100, min_lr_ratio=0.1, targets_per_step=2,
)


# ---------------------------------------------------------------- engine/layers.ts

def trunc_normal_(t, std):
    """engine/params.ts truncNormal: N(0, 1) truncated to [-2, 2], times std."""
    with torch.no_grad():
        nn.init.trunc_normal_(t, mean=0.0, std=std, a=-2 * std, b=2 * std)
    return t


def make_linear(d_in, d_out, bias=False, std=0.02):
    """initLinear: weight ~ truncated N(0, std), zero bias. (PyTorch stores [out, in]; ours [in, out].)"""
    lin = nn.Linear(d_in, d_out, bias=bias)
    trunc_normal_(lin.weight, std)
    if bias:
        nn.init.zeros_(lin.bias)
    return lin


class Norm(nn.Module):
    """initNorm: a weight of ones, no bias (torch 1.13's nn.LayerNorm cannot drop the bias)."""

    def __init__(self, d):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))


def layer_norm(p, x, eps):
    return F.layer_norm(x, (x.shape[-1],), p.weight, None, eps)


def rms_norm(p, x, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * p.weight


class TwoLayer(nn.Module):
    """fc2(act(fc1 x)), d_in → hidden → d_out: the block MLP (exact GELU, no biases) and the PE / head MLPs
    (SiLU, biases). Parameter names fc1 / fc2 as ours."""

    def __init__(self, d_in, hidden, d_out, act, bias, std=0.02):
        super().__init__()
        self.fc1 = make_linear(d_in, hidden, bias=bias, std=std)
        self.fc2 = make_linear(hidden, d_out, bias=bias, std=std)
        self.act = act

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


def Mlp(d, hidden, std):
    """GELU MLP d → hidden → d, no biases, exact (erf) GELU."""
    return TwoLayer(d, hidden, d, F.gelu, False, std)


class Block(nn.Module):
    """Pre-norm block: x + proj(attn(norm1 x)) with QK RMS-norm per head, then + mlp(norm2 x)."""

    def __init__(self, cfg, std):
        super().__init__()
        d, self.nh = cfg["d"], cfg["heads"]
        self.dh = d // self.nh
        self.eps = cfg["eps"]
        self.norm1 = Norm(d)
        self.qkv = make_linear(d, 3 * d, std=std)
        self.qNorm = Norm(self.dh)
        self.kNorm = Norm(self.dh)
        self.proj = make_linear(d, d, std=std)
        self.norm2 = Norm(d)
        self.mlp = Mlp(d, cfg["mlp_ratio"] * d, std)

    def forward(self, x):
        b, n, d = x.shape
        qkv = self.qkv(layer_norm(self.norm1, x, self.eps))  # [b, n, 3d]
        q, k, v = (t.reshape(b, n, self.nh, self.dh) for t in qkv.split(d, -1))  # 3 × [b, n, nh, dh]
        qh = (rms_norm(self.qNorm, q, self.eps) * (1 / math.sqrt(self.dh))).transpose(1, 2)  # [b, nh, n, dh]
        kt = rms_norm(self.kNorm, k, self.eps).permute(0, 2, 3, 1)  # [b, nh, dh, n]
        vh = v.transpose(1, 2)  # [b, nh, n, dh]
        attn = torch.softmax(qh @ kt, -1)  # [b, nh, n, n]
        o = (attn @ vh).transpose(1, 2).reshape(b, n, d)  # [b, n, d]
        h = x + self.proj(o)
        return h + self.mlp(layer_norm(self.norm2, h, self.eps))


class Stack(nn.ModuleList):
    """model/transformer.ts: the i-th block's linears start from N(0, 0.02 / √(2(i+1))); no final norm."""

    def __init__(self, cfg, layers):
        super().__init__([Block(cfg, 0.02 / math.sqrt(2 * (i + 1))) for i in range(layers)])

    def forward(self, x):
        for blk in self:
            x = blk(x)
        return x


def patchify(x, p):
    """[b, c, h, w] → [b, hp·wp, p·p·c], inside a patch (row, col, channel) with channel fastest."""
    b, c, h, w = x.shape
    hp, wp = h // p, w // p
    return x.reshape(b, c, hp, p, wp, p).permute(0, 2, 4, 3, 5, 1).reshape(b, hp * wp, p * p * c)


def unpatchify(t, p, hp, wp):
    b, n, k = t.shape
    c = k // (p * p)
    return t.reshape(b, hp, wp, p, p, c).permute(0, 5, 1, 3, 2, 4).reshape(b, c, hp * p, wp * p)


# ---------------------------------------------------------------- model/tokens.ts

def sin_cos(m, positions):
    half = m // 2
    out = np.zeros((len(positions), m), dtype=np.float32)
    for r, pos in enumerate(positions):
        for i in range(half):
            w = 10000.0 ** (-i / half)
            out[r, i] = math.sin(pos * w)
            out[r, half + i] = math.cos(pos * w)
    return out


def position_table(cfg):
    g = cfg["image_size"] // cfg["patch"]
    n, d, views = g * g, cfg["d"], cfg["views"]
    table = np.zeros((views, n, d), dtype=np.float32)
    view = sin_cos(d // 2, list(range(views)))
    for vi in range(views):
        for t in range(n):
            row, col = divmod(t, g)
            table[vi, t, : d // 4] = sin_cos(d // 4, [col])[0]
            table[vi, t, d // 4: d // 2] = sin_cos(d // 4, [row])[0]
            if cfg["view_index_embedding"]:
                table[vi, t, d // 2:] = view[vi]
    return torch.from_numpy(table)


def PeMlp(d_in, d, d_out):
    """d_in → d (bias) → SiLU → d_out (bias)."""
    return TwoLayer(d_in, d, d_out, F.silu, True)


class Tokenizer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.proj = make_linear(cfg["patch"] ** 2 * 3, cfg["d"])
        self.pe = PeMlp(cfg["d"], cfg["d"], cfg["d"])
        self.register_buffer("table", position_table(cfg), persistent=False)  # [views, n, d]

    def forward(self, images):  # [b, v, 3, h, w] in [0, 1] → [b, v, n, d]
        b, v, c, h, w = images.shape
        patches = patchify((images * 2 - 1).reshape(b * v, c, h, w), self.cfg["patch"])
        tokens = self.proj(patches).reshape(b, v, -1, self.cfg["d"])
        return tokens + self.pe(self.table[:v])


# ---------------------------------------------------------------- geometry

def normalize_last(x):
    return x / torch.clamp(x.norm(dim=-1, keepdim=True), min=1e-12)


def rot6d_to_matrix(x):
    """Gram–Schmidt; b1, b2, b3 are the COLUMNS of R (SPEC §2.5)."""
    a1, a2 = x[..., :3], x[..., 3:]
    b1 = normalize_last(a1)
    b2 = normalize_last(a2 - b1 * (b1 * a2).sum(-1, keepdim=True))
    b3 = torch.cross(b1, b2, dim=-1)
    return torch.stack([b1, b2, b3], -1)


def plucker_rays(c2w, fxfycxcy, h, w):
    """c2w [..., 4, 4], pixel intrinsics [..., 4] → [..., 6, h, w] = [o × d, d]; elementwise, like rays.ts."""
    lead = c2w.shape[:-2]
    n = int(np.prod(lead))
    m = c2w.reshape(n, 4, 4)
    k = fxfycxcy.reshape(n, 4, 1, 1)
    fx, fy, cx, cy = k[:, 0:1], k[:, 1:2], k[:, 2:3], k[:, 3:4]  # [n, 1, 1, 1]
    px = (torch.arange(w, dtype=torch.float32) + 0.5).reshape(1, 1, 1, w)
    py = (torch.arange(h, dtype=torch.float32) + 0.5).reshape(1, 1, h, 1)
    u = (px - cx) / fx  # [n, 1, 1, w]
    v = (py - cy) / fy  # [n, 1, h, 1]
    r0 = m[:, :3, 0].reshape(n, 3, 1, 1)
    r1 = m[:, :3, 1].reshape(n, 3, 1, 1)
    r2 = m[:, :3, 2].reshape(n, 3, 1, 1)
    o = m[:, :3, 3].reshape(n, 3, 1, 1)
    d_raw = r0 * u + r1 * v + r2  # [n, 3, h, w]
    d = d_raw / d_raw.pow(2).sum(1, keepdim=True).sqrt()
    moment = torch.cross(o.expand(n, 3, h, w), d, dim=1)
    return torch.cat([moment, d], 1).reshape(*lead, 6, h, w)


# ---------------------------------------------------------------- model/cameraEstimator.ts

class CameraEstimator(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg["d"]
        self.cfg = cfg
        self.camCode = nn.Parameter(trunc_normal_(torch.empty(1, d), 0.02))
        self.camPe = PeMlp(d, d, d)  # only used with the view-index embedding; held (and counted) either way
        self.blocks = Stack(cfg, cfg["layers"]["camera"])
        self.focalHead = PeMlp(d, d, 1)  # d → d → 1
        self.poseHead = PeMlp(2 * d, d, 9)  # 2d → d → 9
        r = cfg["camera_registers"]
        self.registers = nn.Parameter(trunc_normal_(torch.empty(r, d), 0.02)) if r > 0 else None
        self.register_buffer("code", torch.from_numpy(sin_cos(d, list(range(cfg["views"])))), persistent=False)
        self.register_buffer("not_first", torch.tensor([0.0] + [1.0] * (cfg["views"] - 1)).reshape(1, -1, 1), persistent=False)
        self.register_buffer("base", torch.tensor([1.0, 0, 0, 0, 1, 0, 0, 0, 0]), persistent=False)

    def forward(self, image_tokens):  # [b, v, n, d] → c2w [b, v, 4, 4], normalised fxfycxcy [b, v, 4]
        b, v, n, d = image_tokens.shape
        cam = self.camCode  # [1, d]
        cam = cam + self.camPe(self.code[:v]) if self.cfg["view_index_embedding"] else cam.expand(v, d)
        parts = [cam.reshape(1, v, d).expand(b, v, d), image_tokens.reshape(b, v * n, d)]
        if self.registers is not None:
            parts.append(self.registers.unsqueeze(0).expand(b, -1, d))
        out = self.blocks(torch.cat(parts, 1))[:, :v]  # [b, v, d]  (sequence 6 + 96 + 2 = 104)
        tok0 = out[:, :1]  # [b, 1, d]
        focal = self.focalHead(tok0) + self.cfg["focal_init"]  # [b, 1, 1]
        pair = torch.cat([tok0.expand(b, v, d), out], -1)  # [b, v, 2d]
        pose = self.poseHead(pair) * self.not_first[:, :v] + self.base  # [b, v, 9]
        rot = rot6d_to_matrix(pose[..., :6])  # [b, v, 3, 3]
        t = pose[..., 6:9].reshape(b, v, 3, 1)
        top = torch.cat([rot, t], -1)  # [b, v, 3, 4]
        bottom = torch.tensor([0.0, 0, 0, 1]).reshape(1, 1, 1, 4).expand(b, v, 1, 4)
        c2w = torch.cat([top, bottom], -2)  # [b, v, 4, 4]
        f = focal.expand(b, v, 1)
        fxfycxcy = torch.cat([f, f, torch.full((b, v, 2), 0.5)], -1)  # [b, v, 4]
        return c2w, fxfycxcy


# ---------------------------------------------------------------- model/sceneEncoder.ts

class FuseMlp(nn.Module):
    """FuseMLP: LN(2d) → 2d → d (bias) → SiLU → d → d (bias)."""

    def __init__(self, d):
        super().__init__()
        self.norm = Norm(2 * d)
        self.fc1 = make_linear(2 * d, d, bias=True)
        self.fc2 = make_linear(d, d, bias=True)

    def forward(self, x, eps):
        return self.fc2(F.silu(self.fc1(layer_norm(self.norm, x, eps))))


class SceneEncoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg["d"]
        self.cfg = cfg
        self.rayTokenizer = make_linear(cfg["patch"] ** 2 * 6, d)  # PlkTok1, no bias
        self.fuse = FuseMlp(d)
        self.sceneCode = nn.Parameter(trunc_normal_(torch.empty(cfg["scene_tokens"], d), 0.02))
        self.blocks = Stack(cfg, cfg["layers"]["encoder"])

    def forward(self, image_tokens, rays):  # [b, k, n, d], [b, k, 6, h, w] → latent [b, S, d], inputs [b, k·n, d]
        b, k, n, d = image_tokens.shape
        pair = torch.cat([image_tokens, ray_tokens(self.rayTokenizer, rays, self.cfg)], -1)  # [b, k, n, 2d]
        fused = self.fuse(pair, self.cfg["eps"])
        inputs = fused.reshape(b, k * n, d)
        S = self.cfg["scene_tokens"]
        out = self.blocks(torch.cat([self.sceneCode.unsqueeze(0).expand(b, S, d), inputs], 1))  # [b, S + k·n, d]
        return out[:, :S], inputs


def ray_tokens(tok, rays, cfg):
    b, k, c, h, w = rays.shape
    return tok(patchify(rays.reshape(b * k, c, h, w), cfg["patch"])).reshape(b, k, -1, cfg["d"])


# ---------------------------------------------------------------- model/renderer.ts

class Renderer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg["d"]
        self.cfg = cfg
        self.rayTokenizer = make_linear(cfg["patch"] ** 2 * 6, d)  # PlkTok2, no bias
        self.inNorm = Norm(d)
        self.blocks = Stack(cfg, cfg["layers"]["renderer"])
        self.outNorm = Norm(d)
        self.head = make_linear(d, cfg["patch"] ** 2 * 3)

    def forward(self, rays, latent, inputs):  # [b, t, 6, h, w], [b, S, d], [b, k·n, d] → [b, t, 3, h, w]
        cfg = self.cfg
        b, t = rays.shape[:2]
        d, g = cfg["d"], cfg["image_size"] // cfg["patch"]
        n = g * g
        queries = ray_tokens(self.rayTokenizer, rays, cfg).reshape(b * t, n, d)
        context = torch.cat([latent, inputs], 1) if cfg["renderer_reads"] == "latentAndInputs" else latent
        m = context.shape[1]
        shared = context.reshape(b, 1, m, d).expand(b, t, m, d).reshape(b * t, m, d)
        seq = layer_norm(self.inNorm, torch.cat([queries, shared], 1), cfg["eps"])  # [b·t, n + m, d] = 80 tokens
        out = self.blocks(seq)[:, :n]
        rgb = torch.sigmoid(self.head(layer_norm(self.outNorm, out, cfg["eps"])))
        return unpatchify(rgb, cfg["patch"], g, g).reshape(b, t, 3, cfg["image_size"], cfg["image_size"])


# ---------------------------------------------------------------- model/rayzer.ts

class RayZer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.tokenizer = Tokenizer(cfg)
        self.cameraEstimator = CameraEstimator(cfg)
        self.sceneEncoder = SceneEncoder(cfg)
        self.renderer = Renderer(cfg)

    def forward(self, images, render=None):  # [b, v, 3, h, w]; render: view indices (default: the targets)
        h, w = images.shape[-2:]
        k = self.cfg["input_views"]
        v = images.shape[1]
        render = list(range(k, v)) if render is None else list(render)
        tokens = self.tokenizer(images)
        c2w, fxfycxcy = self.cameraEstimator(tokens)
        pixels = fxfycxcy * torch.tensor([w, h, w, h], dtype=torch.float32)  # denormalizeIntrinsicsArray
        rays = plucker_rays(c2w, pixels, h, w)  # [b, v, 6, h, w]
        latent, inputs = self.sceneEncoder(tokens[:, :k], rays[:, :k])
        return self.renderer(rays[:, render], latent, inputs)


def forward_gflop(cfg, b, t):
    """bench/rayzer.bench.ts rayzerForwardGflop: matmul FLOPs of one forward, b samples, t rendered views."""
    n = (cfg["image_size"] // cfg["patch"]) ** 2
    d, v, k, S, R = cfg["d"], cfg["views"], cfg["input_views"], cfg["scene_tokens"], cfg["camera_registers"]
    P = cfg["patch"] ** 2
    r = cfg["mlp_ratio"]

    def stack(bb, nn_, layers):
        return layers * (2 * bb * nn_ * d * d * (3 + 1 + 2 * r) + 2 * 2 * bb * nn_ * nn_ * d)

    m = S + k * n if cfg["renderer_reads"] == "latentAndInputs" else S
    flops = (2 * b * v * n * 3 * P * d + stack(b, v + v * n + R, cfg["layers"]["camera"])
             + 2 * b * (d * d + d) + 2 * b * v * (2 * d * d + 9 * d)
             + 2 * b * k * n * 6 * P * d + 2 * b * k * n * 3 * d * d + stack(b, S + k * n, cfg["layers"]["encoder"])
             + 2 * b * t * n * 6 * P * d + stack(b * t, n + m, cfg["layers"]["renderer"]) + 2 * b * t * n * d * 3 * P)
    return flops / 1e9


# ---------------------------------------------------------------- train/step.ts + engine/optim.ts

def learning_rate(step, tc):
    """engine/optim.ts learningRate: linear warm-up to lr, then cosine to min_lr_ratio · lr (step 0-based)."""
    if tc["warmup_steps"] > 0 and step < tc["warmup_steps"]:
        return tc["lr"] * (step + 1) / tc["warmup_steps"]
    span = max(1, tc["steps"] - tc["warmup_steps"])
    t = min(1.0, max(0.0, (step - tc["warmup_steps"]) / span))
    return tc["lr"] * (tc["min_lr_ratio"] + (1 - tc["min_lr_ratio"]) * 0.5 * (1 + math.cos(math.pi * t)))


class Stage1Trainer:
    """Loss = MSE(rendered views, real views); global-norm clip; AdamW with decay on matrices (ndim ≥ 2) only."""

    def __init__(self, model, tc, with_inputs=False):
        self.model, self.tc = model, tc
        cfg = model.cfg
        k = cfg["input_views"]
        targets = list(range(k, k + min(tc["targets_per_step"], cfg["views"] - k)))
        self.render = targets + (list(range(k)) if with_inputs else [])
        self.params = [p for p in model.parameters()]
        decay = [p for p in self.params if p.ndim >= 2]
        no_decay = [p for p in self.params if p.ndim < 2]
        # torch's AdamW (p ← p·(1 − lr·wd) − lr·m̂/(√v̂ + eps)) equals optim.ts's p ← p − lr·(m̂/(√v̂ + eps) + wd·p).
        self.opt = torch.optim.AdamW(
            [{"params": decay, "weight_decay": tc["weight_decay"]}, {"params": no_decay, "weight_decay": 0.0}],
            lr=tc["lr"], betas=(tc["beta1"], tc["beta2"]), eps=tc["eps"])
        self.step_i = 0

    def loss(self, images):
        renders = self.model(images, self.render)
        return F.mse_loss(renders, images[:, self.render])

    def step(self, images):
        for g in self.opt.param_groups:
            g["lr"] = learning_rate(self.step_i, self.tc)
        self.opt.zero_grad(set_to_none=True)
        loss = self.loss(images)
        loss.backward()
        for p in self.params:  # unused leaves (cam_pe without the view-index embedding) get a zero gradient, as in jax
            if p.grad is None:
                p.grad = torch.zeros_like(p)
        grad_norm = torch.nn.utils.clip_grad_norm_(self.params, self.tc["clip_norm"])  # scale = min(1, c/(‖g‖+1e-6))
        self.opt.step()
        self.step_i += 1
        return loss.detach(), grad_norm


# ---------------------------------------------------------------- parity check against jax-js

def read_reference(path):
    """bench/peers/export_reference.ts's file: u32 header length, JSON header, float32 data."""
    raw = open(path, "rb").read()
    hlen = int.from_bytes(raw[:4], "little")
    header = json.loads(raw[4:4 + hlen])
    data = np.frombuffer(raw[4 + hlen:], dtype="<f4")
    out = {}
    for e in header["entries"]:
        size = int(np.prod(e["shape"])) if e["shape"] else 1
        out[e["name"]] = torch.from_numpy(data[e["offset"]:e["offset"] + size].copy()).reshape(e["shape"])
    return header, out


def load_jax_params(model, ref, prefix="param."):
    """Our module names are the jax-js dotted names; linear weights are stored [in, out] there, [out, in] here."""
    own = dict(model.named_parameters())
    theirs = {k[len(prefix):]: v for k, v in ref.items() if k.startswith(prefix)}
    if set(own) != set(theirs):
        raise SystemExit(f"name mismatch: only here {sorted(set(own) - set(theirs))}, only there {sorted(set(theirs) - set(own))}")
    with torch.no_grad():
        for name, p in own.items():
            t = theirs[name]
            if t.ndim == 2 and name.endswith(".weight"):
                t = t.t()
            if tuple(t.shape) != tuple(p.shape):
                raise SystemExit(f"{name}: shape {tuple(t.shape)} there, {tuple(p.shape)} here")
            p.copy_(t)
    return theirs


def check(path):
    """Loads the jax-js params and batch, and compares the forward and one train step."""
    header, ref = read_reference(path)
    torch.manual_seed(0)
    model = RayZer(SMALL)
    load_jax_params(model, ref)
    images = ref["images"]
    render = header["render"]
    ok = True

    def cmp(name, got, want, tol):
        nonlocal ok
        err = (got - want).abs().max().item()
        scale = want.abs().max().item()
        good = err <= tol * max(scale, 1e-12)
        ok &= good
        print(f"{'ok ' if good else 'BAD'} {name:<22} max |diff| {err:.3e}  (max |ref| {scale:.3e}, tol {tol:g} rel)")

    with torch.no_grad():
        tokens = model.tokenizer(images)
        c2w, k = model.cameraEstimator(tokens)
        renders = model(images, render)
    cmp("cameras c2w", c2w, ref["forward.c2w"], 1e-4)
    cmp("cameras fxfycxcy", k, ref["forward.fxfycxcy"], 1e-5)
    cmp("renders", renders, ref["forward.renders"], 1e-4)
    cmp("forward loss", F.mse_loss(renders, images[:, render]), ref["forward.loss"], 1e-4)

    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    trainer = Stage1Trainer(model, SMALL_TRAIN)
    lr = learning_rate(0, SMALL_TRAIN)
    loss, gnorm = trainer.step(images)
    cmp("step loss", loss, ref["step.loss"], 1e-4)
    cmp("step grad norm", gnorm, ref["step.gradNorm"], 1e-3)
    cmp("step lr", torch.tensor(lr), ref["step.lr"], 1e-5)
    # Adam's first update is ≈ −lr·sign(g) (− lr·wd·p): compare each param's change, and count sign agreement.
    agree, total, worst = 0, 0, 0.0
    for n, p in model.named_parameters():
        t = ref["after." + n]
        if t.ndim == 2 and n.endswith(".weight"):
            t = t.t()
        d_here, d_there = p.detach() - before[n], t - before[n]
        agree += int(((d_here - d_there).abs() <= 0.05 * lr + 1e-9).sum())
        total += p.numel()
        worst = max(worst, (d_here - d_there).abs().max().item())
    frac = agree / total
    ok &= frac > 0.99
    print(f"{'ok ' if frac > 0.99 else 'BAD'} step update            {100 * frac:.3f}% of {total:,} param changes agree to 5% of lr "
          f"(worst |diff| {worst:.2e}, lr {lr:.1e}; tiny gradients can flip Adam's first-step sign)")
    print("PARITY OK" if ok else "PARITY FAILED")
    return ok


# ---------------------------------------------------------------- CLI

def loaded_blas():
    """The BLAS / LAPACK shared objects this process mapped (which one LD_LIBRARY_PATH made torch pick up)."""
    try:
        maps = open("/proc/self/maps").read().split("\n")
    except OSError:
        return []
    libs = {line.split()[-1] for line in maps if line.count("/") and ("blas" in line.lower() or "lapack" in line.lower())}
    return sorted(libs)


def blas_check(threads):
    """Median of 5 float32 1024×1024 matmuls (after one warm-up): OpenBLAS does tens of GFLOP/s, reference BLAS ~3."""
    a, b = torch.rand(1024, 1024), torch.rand(1024, 1024)
    ms = time_calls(lambda: a @ b, 1, 5)
    med = statistics.median(ms)
    print(f"matmul 1024³ float32, {threads} threads: median {med:.1f} ms = {2 * 1024 ** 3 / med / 1e6:.1f} GFLOP/s")
    print("BLAS mapped:", *loaded_blas(), sep="\n  ")


CPU_MS = []  # CPU time (all threads of the process) of each timed call of the last time_calls


def time_calls(fn, warmup, reps):
    for _ in range(warmup):
        fn()
    ms = []
    CPU_MS.clear()
    for _ in range(reps):
        c0 = time.process_time()
        t0 = time.perf_counter()
        fn()
        ms.append((time.perf_counter() - t0) * 1e3)
        CPU_MS.append((time.process_time() - c0) * 1e3)
    return ms


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batch", type=int, default=SMALL_TRAIN["batch"])
    ap.add_argument("--steps", type=int, default=10, help="timed steps (after 3 warm-up steps)")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--mode", choices=["train", "forward", "both"], default="both")
    ap.add_argument("--with-inputs", action="store_true", help="train step also renders the input views (+inputs row)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--preset", choices=["small", "paper"], default="small", help="model size (paper: forward only)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--blas-check", action="store_true", help="time a 1024² matmul and list the mapped BLAS, then exit")
    ap.add_argument("--check", metavar="REF.bin", help="compare with bench/peers/export_reference.ts's output, then exit")
    args = ap.parse_args()
    if args.check:
        torch.set_num_threads(args.threads)
        sys.exit(0 if check(args.check) else 1)
    if args.blas_check:
        torch.set_num_threads(args.threads)
        blas_check(args.threads)
        return

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    cfg, tc = (PAPER if args.preset == "paper" else SMALL), SMALL_TRAIN
    if args.preset == "paper" and args.mode != "forward":
        sys.exit("--preset paper: forward only (--mode forward)")
    model = RayZer(cfg)
    n_params = sum(p.numel() for p in model.parameters())
    g = torch.Generator().manual_seed(args.seed)
    images = torch.rand(args.batch, cfg["views"], 3, cfg["image_size"], cfg["image_size"], generator=g)

    result = {"peer": "pytorch", "preset": args.preset, "torch": torch.__version__, "threads": torch.get_num_threads(), "batch": args.batch,
              "train_ms_median": None, "forward_ms_median": None, "params": n_params,
              "blas": loaded_blas(), "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY")}
    log = (lambda *a: print(*a, file=sys.stderr)) if args.json else print
    log(f"torch {torch.__version__}, {torch.get_num_threads()} threads, params {n_params:,}")

    if args.mode in ("train", "both"):
        trainer = Stage1Trainer(model, tc, with_inputs=args.with_inputs)
        losses = []
        ms = time_calls(lambda: losses.append(trainer.step(images)), args.warmup, args.steps)
        t = len(trainer.render)
        gf = 3 * forward_gflop(cfg, args.batch, t)
        result.update(train_ms_median=statistics.median(ms), train_ms_min=min(ms), train_gflop=gf, train_targets=t,
                      train_cpu_ms_median=statistics.median(CPU_MS),
                      losses=[round(float(l), 6) for l, _ in losses])
        log(f"train step b{args.batch} t{t}: median {statistics.median(ms):.1f} ms, min {min(ms):.1f} ms "
            f"({gf / statistics.median(ms) * 1e3:.1f} GFLOP/s); loss {float(losses[0][0]):.5f} → {float(losses[-1][0]):.5f}, "
            f"grad norm {float(losses[-1][1]):.4f}")

    if args.mode in ("forward", "both"):
        model.eval()

        def fwd():
            with torch.no_grad():
                return model(images)

        ms = time_calls(fwd, args.warmup, args.steps)
        t = cfg["views"] - cfg["input_views"]
        gf = forward_gflop(cfg, args.batch, t)
        result.update(forward_ms_median=statistics.median(ms), forward_ms_min=min(ms), forward_gflop=gf,
                      forward_cpu_ms_median=statistics.median(CPU_MS))
        log(f"forward b{args.batch} t{t}: median {statistics.median(ms):.1f} ms, min {min(ms):.1f} ms "
            f"({gf / statistics.median(ms) * 1e3:.1f} GFLOP/s)")

    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
