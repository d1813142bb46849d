"""Line-by-line PyTorch transcription of GeomLoss 0.2.6's ImagesBarycenter
(geomloss/wasserstein_barycenter_images.py and the grid helpers of
geomloss/utils.py), with KeOps' separable soft-min replaced by dense
torch.logsumexp passes along the same axes in the same order (last axis
first). Used by TestBarycenterMatchesTorch: reads a JSON list of problems
{N, K, P, Extra, Blur, Measures, W, Out, Cot, GradW} (Out: libgeomloss's
result; GradW, if Cot is given: its gradient of sum(Cot * bar) w.r.t. the
weights) and prints, per problem, [max|out - ref| / max|ref|, the same for
the weight gradient (0 without Cot)]. The reference computes its
log-densities without gradient when backward_iterations > 0, so autograd
gives it no gradient w.r.t. the measures (None): only the weights' is
compared.
"""
import json
import sys

import numpy as np
import torch

torch.set_default_dtype(torch.float64)


def softmin(eps, p, h):
    n = h.shape[-1]
    x = torch.arange(n, dtype=h.dtype) / n
    d = x[:, None] - x[None, :]
    C = d ** 2 / 2 if p == 2 else d.abs()
    h = torch.logsumexp(h[..., None, :] - C / eps, dim=-1)  # last axis
    h = torch.logsumexp(h.transpose(-1, -2)[..., None, :] - C / eps, dim=-1).transpose(-1, -2)
    return -eps * h


def pyramid(I):
    I_s = [I]
    for _ in range(int(np.log2(I.shape[-1]))):
        I = 4 * torch.nn.functional.avg_pool2d(I, 2)
        I_s.append(I)
    I_s.reverse()
    return I_s


def log_dens(a):
    l = a.log()
    l[a <= 0] = -10000.0
    return l


def upsample(I):
    return torch.nn.functional.interpolate(I, scale_factor=2, mode="bilinear", align_corners=False)


def iteration(f_k, g_k, d_log, eps, p, ak_log, w_k):
    ft_k = softmin(eps, p, ak_log + g_k / eps) / eps
    bar_log = d_log - (ft_k * w_k[:, :, None, None]).sum(1, keepdim=True)
    ft_k = softmin(eps, p, ak_log + g_k / eps)
    gt_k = softmin(eps, p, bar_log + f_k / eps)
    f_k, g_k = (f_k + ft_k) / 2, (g_k + gt_k) / 2
    ft_k = softmin(eps, p, ak_log + g_k / eps) / eps
    bar_log = d_log - (ft_k * w_k[:, :, None, None]).sum(1, keepdim=True)
    d_log = 0.5 * (d_log + bar_log + softmin(eps, p, d_log) / eps)
    return f_k, g_k, d_log, bar_log


def barycenter(a_k, w_k, blur=0, p=2, scaling_N=10, backward_iterations=0):
    if blur == 0:
        blur = 1 / a_k.shape[-1]
    with torch.set_grad_enabled(backward_iterations == 0):
        ak_s = pyramid(a_k)[1:]
        ak_log_s = list(map(log_dens, ak_s))
        sigma = 1
        eps = sigma ** p
        f_k, g_k = softmin(eps, p, ak_log_s[0]), softmin(eps, p, ak_log_s[0])
        d_log = torch.ones_like(ak_log_s[0]).sum(dim=1, keepdim=True)
        d_log = d_log - d_log.logsumexp([2, 3], keepdim=True)
        for n, ak_log in enumerate(ak_log_s):
            for _ in range(scaling_N):
                eps = sigma ** p
                f_k, g_k, d_log, bar_log = iteration(f_k, g_k, d_log, eps, p, ak_log, w_k)
                sigma = max(sigma * (2 ** (-1 / scaling_N)), blur)
            if n + 1 < len(ak_s):
                f_k, g_k, d_log = upsample(f_k), upsample(g_k), upsample(d_log)
    if (a_k.requires_grad or w_k.requires_grad) and backward_iterations > 0:
        for _ in range(backward_iterations):
            f_k, g_k, d_log, bar_log = iteration(f_k, g_k, d_log, eps, p, ak_log, w_k)
    return bar_log.exp()


errs = []
for pb in json.load(open(sys.argv[1])):
    N, K = pb["N"], pb["K"]
    a = torch.tensor(pb["Measures"]).view(1, K, N, N)
    w = torch.tensor(pb["W"]).view(1, K)
    cot = pb.get("Cot")
    if cot:
        w.requires_grad_(True)
    ref = barycenter(a, w, blur=pb["Blur"], p=pb["P"], backward_iterations=pb["Extra"])
    out = np.array(pb["Out"])
    e = [float(np.abs(out - ref.detach().view(-1).numpy()).max() / np.abs(ref.detach().numpy()).max()), 0.0]
    if cot:
        (gw,) = torch.autograd.grad((ref.view(-1) * torch.tensor(cot)).sum(), [w])
        gw = gw.view(-1).numpy()
        e[1] = float(np.abs(np.array(pb["GradW"]) - gw).max() / np.abs(gw).max())
    errs.append(e)
print(json.dumps(errs))
