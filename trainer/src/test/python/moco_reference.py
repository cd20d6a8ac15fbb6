#!/usr/bin/env python3
"""Reference MoCo v2 step in PyTorch, for MocoParityTest.

Written from the MoCo paper's Algorithm 1 (He et al., 2020) and the semantics of the authors' CIFAR-10 demo
(colab/moco_cifar10_demo.ipynb in facebookresearch/moco: ModelMoCo, SplitBatchNorm) with the v2 projection head
(fc-ReLU-fc, Chen et al., 2020):

  forward(im1, im2):
      momentum update f_k <- m f_k + (1-m) f_q        (parameters only; BatchNorm buffers are f_k's own)
      loss_12, q1, k2 = contrastive_loss(im1, im2)
      if symmetric: loss_21, q2, k1 = contrastive_loss(im2, im1); loss = loss_12 + loss_21; k = cat([k1, k2])
      enqueue k
  contrastive_loss(im_q, im_k):
      q = normalize(f_q(im_q)); k = unshuffle(normalize(f_k(shuffle(im_k))))   (f_k without gradient)
      logits = [q.k, q.queue] / T; cross-entropy with label 0
  SGD(momentum, weight decay) on f_q; every BatchNorm is split into G groups (row i in group i mod G) in training.

The network is DJL's ResNet-18 as the engine builds it (3x3 stem, no max-pool, residual units conv-BN-ReLU-conv-BN
plus an identity or 1x1-conv-BN shortcut, then ReLU; global average pool), so that the engine's initial weights load
one to one. Inputs, initial weights, initial queue and shuffle permutations come from DIR (written by the Java test);
every quantity of every step is written back to DIR/out as raw little-endian float32.

Usage: moco_reference.py DIR
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class SplitBatchNorm(nn.BatchNorm2d):
    """BatchNorm over G groups of the batch in training (row i in group i mod G), as the demo's SplitBatchNorm:
    the batch is viewed as (N/G) x (G C) x H x W, and the running statistics are the mean of the G groups' updates."""

    def __init__(self, channels, groups, eps, momentum):
        super().__init__(channels, eps=eps, momentum=momentum)
        self.groups = groups

    def forward(self, x):
        n, c, h, w = x.shape
        g = self.groups
        if not self.training or g == 1:
            return super().forward(x)
        mean_split = self.running_mean.repeat(g)
        var_split = self.running_var.repeat(g)
        y = F.batch_norm(x.reshape(-1, c * g, h, w), mean_split, var_split, self.weight.repeat(g),
                         self.bias.repeat(g), True, self.momentum, self.eps).reshape(n, c, h, w)
        self.running_mean.copy_(mean_split.view(g, c).mean(dim=0))
        self.running_var.copy_(var_split.view(g, c).mean(dim=0))
        return y


class Unit(nn.Module):
    """DJL's ResNetV1 residual unit (no bottleneck): relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))."""

    def __init__(self, cin, filters, stride, identity, bn):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, filters, 3, stride, 1, bias=False)
        self.bn1 = bn(filters)
        self.conv2 = nn.Conv2d(filters, filters, 3, 1, 1, bias=False)
        self.bn2 = bn(filters)
        self.identity = identity
        if not identity:
            self.conv_s = nn.Conv2d(cin, filters, 1, stride, 0, bias=False)
            self.bn_s = bn(filters)

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        s = x if self.identity else self.bn_s(self.conv_s(x))
        return F.relu(y + s)

    def ordered(self):
        mods = [self.conv1, self.bn1, self.conv2, self.bn2]
        return mods if self.identity else mods + [self.conv_s, self.bn_s]


class Encoder(nn.Module):
    """ResNet-18 backbone (width w) + v2 head fc(F,F)-ReLU-fc(F,D)."""

    def __init__(self, channels, width, dim, groups, eps, momentum):
        super().__init__()
        bn = lambda c: SplitBatchNorm(c, groups, eps, momentum)
        self.stem = nn.Conv2d(channels, width, 3, 1, 1, bias=False)
        self.stem_bn = bn(width)
        units, cin = [], width
        for stage in range(4):
            f = width << stage
            units.append(Unit(cin, f, 1 if stage == 0 else 2, stage == 0, bn))
            units.append(Unit(f, f, 1, True, bn))
            cin = f
        self.units = nn.ModuleList(units)
        self.fc1 = nn.Linear(8 * width, 8 * width)
        self.fc2 = nn.Linear(8 * width, dim)

    def forward(self, x):
        x = F.relu(self.stem_bn(self.stem(x)))
        for u in self.units:
            x = u(x)
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return self.fc2(F.relu(self.fc1(x)))

    def arrays(self):
        """Every array in DJL's order: per block weight (bias), BatchNorm gamma, beta, running mean, running var."""
        mods = [self.stem, self.stem_bn]
        for u in self.units:
            mods += u.ordered()
        mods += [self.fc1, self.fc2]
        out = []
        for m in mods:
            if isinstance(m, nn.BatchNorm2d):
                out += [("gamma", m.weight), ("beta", m.bias), ("runningMean", m.running_mean),
                        ("runningVar", m.running_var)]
            else:
                out.append(("weight", m.weight))
                if m.bias is not None:
                    out.append(("bias", m.bias))
        return out


def read(path, shape, dtype=np.float32):
    return torch.from_numpy(np.fromfile(path, dtype=np.dtype(dtype).newbyteorder("<")).reshape(shape).copy())


def write(path, tensor):
    tensor.detach().contiguous().numpy().astype("<f4").tofile(path)


def main(d):
    m = json.load(open(os.path.join(d, "manifest.json")))
    torch.set_num_threads(1)
    n, dim, K, groups = m["batch"], m["dim"], m["queueSize"], m["groups"]
    make = lambda: Encoder(m["channels"], m["width"], dim, groups, m["bnEpsilon"], m["bnMomentum"])
    f_q, f_k = make(), make()
    q_arrays, k_arrays = f_q.arrays(), f_k.arrays()
    kinds = [a["kind"] for a in m["arrays"]]
    if [k for k, _ in q_arrays] != kinds:
        sys.exit("array kinds differ from the engine's: %s vs %s" % ([k for k, _ in q_arrays], kinds))
    flat = read(os.path.join(d, "init.f32"), (-1,))
    at = 0
    with torch.no_grad():
        for (kind, p), (_, pk), spec in zip(q_arrays, k_arrays, m["arrays"]):
            if list(p.shape) != spec["shape"]:
                sys.exit("array %s: shape %s, the engine's %s" % (spec["name"], list(p.shape), spec["shape"]))
            size = p.numel()
            p.copy_(flat[at:at + size].view(p.shape))
            pk.copy_(p)
            at += size
    if at != flat.numel():
        sys.exit("init.f32 holds %d floats, the arrays %d" % (flat.numel(), at))
    for p in f_k.parameters():
        p.requires_grad = False
    queue = read(os.path.join(d, "queue0.f32"), (dim, K))
    ptr = 0
    f_q.train()
    f_k.train()
    trainable = [p for kind, p in q_arrays if kind not in ("runningMean", "runningVar")]
    lr = m["baseLr"] * n / 256                                              # linear scaling rule, base lr per 256
    opt = torch.optim.SGD(trainable, lr=lr, momentum=m["sgdMomentum"], weight_decay=m["weightDecay"])
    out = os.path.join(d, "out")
    os.makedirs(out, exist_ok=True)
    shape = (n, m["channels"], m["size"], m["size"])

    def contrastive_loss(im_q, im_k, perm):
        q = F.normalize(f_q(im_q), dim=1)                                    # q: N x D
        with torch.no_grad():
            k = F.normalize(f_k(im_k[perm]), dim=1)[torch.argsort(perm)]    # k: N x D, shuffled BN, unshuffled
        l_pos = torch.einsum("nc,nc->n", q, k).unsqueeze(-1)                 # N x 1
        l_neg = torch.einsum("nc,ck->nk", q, queue.clone())                  # N x K
        logits = torch.cat([l_pos, l_neg], dim=1) / m["temperature"]
        labels = torch.zeros(logits.shape[0], dtype=torch.long)
        return F.cross_entropy(logits, labels), q, k

    for s in range(m["steps"]):
        im1 = read(os.path.join(d, "im1_%d.f32" % s), shape)
        im2 = read(os.path.join(d, "im2_%d.f32" % s), shape)
        perm0 = read(os.path.join(d, "perm_%d_0.i32" % s), (n,), np.int32).long()
        perm1 = read(os.path.join(d, "perm_%d_1.i32" % s), (n,), np.int32).long()
        with torch.no_grad():
            for pq, pk in zip(f_q.parameters(), f_k.parameters()):
                pk.mul_(m["keyMomentum"]).add_(pq.mul(1 - m["keyMomentum"]))
        key_weights = [p.detach().clone() for kind, p in k_arrays if kind not in ("runningMean", "runningVar")]
        loss, q1, k2 = contrastive_loss(im1, im2, perm0)
        written = {"q1": q1, "k2": k2}
        if m["symmetric"]:
            loss_21, q2, k1 = contrastive_loss(im2, im1, perm1)
            loss = loss + loss_21
            keys = torch.cat([k1, k2], dim=0)
            written.update(q2=q2, k1=k1)
        else:
            keys = k2
        for i in range(keys.shape[0]):                                      # dequeue and enqueue
            queue[:, (ptr + i) % K] = keys[i]
        ptr = (ptr + keys.shape[0]) % K
        opt.zero_grad()
        loss.backward()
        p = os.path.join(out, "%d_" % s)
        write(p + "loss.f32", loss.reshape(1))
        for name, t in written.items():
            write(p + name + ".f32", t)
        write(p + "grad.f32", torch.cat([t.grad.reshape(-1) for t in trainable]))
        opt.step()
        write(p + "query.f32", torch.cat([t.reshape(-1) for _, t in q_arrays]))
        write(p + "keyWeights.f32", torch.cat([t.reshape(-1) for t in key_weights]))
        write(p + "keyStatistics.f32",
              torch.cat([t.reshape(-1) for kind, t in k_arrays if kind in ("runningMean", "runningVar")]))
        write(p + "queue.f32", queue)
    print("reference: %d steps, torch %s" % (m["steps"], torch.__version__))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: moco_reference.py DIR")
    main(sys.argv[1])
