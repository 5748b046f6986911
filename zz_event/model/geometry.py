"""True convolution geometry of a layer, independent of how ZigZag's loops are written.

A convolution here is O[b][g][k][oy][ox] += W[g][k][c][fy][fx] * I[b][g][c][iy][ix] with, per spatial
axis, `i = o*stride + f*dilation - pad_before`. Fully-connected layers and matrix products are 1x1
convolutions. The boundary filter (which (input, tap) pairs reach a real output) lives in `validity`
below; everything that counts data motion reads the geometry through it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zz_event.errors import GeometryError

__all__ = ["AxisGeometry", "ConvGeometry"]


@dataclass(frozen=True)
class AxisGeometry:
    """One spatial axis (Y or X): input size, kernel size, stride, dilation, padding, output size."""

    inp: int
    kernel: int
    stride: int = 1
    dilation: int = 1
    pad_before: int = 0
    pad_after: int = 0

    @property
    def out(self) -> int:
        span = self.dilation * (self.kernel - 1) + 1
        return (self.inp + self.pad_before + self.pad_after - span) // self.stride + 1

    def check(self, name: str, path: str | None = None) -> None:
        for label, value in (("input", self.inp), ("kernel", self.kernel), ("dilation", self.dilation)):
            if value < 1:
                raise GeometryError(f"{name} {label} size is {value}; it must be a positive integer", path)
        if self.stride < 1:
            raise GeometryError(f"{name} stride is {self.stride}; it must be at least 1", path)
        if self.pad_before < 0 or self.pad_after < 0:
            raise GeometryError(f"{name} padding ({self.pad_before}, {self.pad_after}) is negative", path)
        if self.out < 1:
            raise GeometryError(
                f"{name} output size is {self.out} (input {self.inp}, kernel {self.kernel}, stride {self.stride}, "
                f"dilation {self.dilation}, padding {self.pad_before}+{self.pad_after}); the kernel does not fit",
                path,
            )

    def output_of(self, inp: np.ndarray, tap: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For input-centric pairs (input index, tap): the output index and whether the pair is a valid MAC."""
        shifted = inp + self.pad_before - self.dilation * tap
        out = shifted // self.stride
        valid = (shifted >= 0) & (shifted % self.stride == 0) & (out < self.out)
        return out, valid

    def input_of(self, out: np.ndarray, tap: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For output-centric pairs (output index, tap): the input index and whether it is a real pixel."""
        inp = out * self.stride + tap * self.dilation - self.pad_before
        valid = (inp >= 0) & (inp < self.inp) & (out < self.out)
        return inp, valid


@dataclass(frozen=True)
class ConvGeometry:
    """A layer's true geometry: batch, groups, channels and the two spatial axes."""

    B: int
    K: int  # output channels per group
    C: int  # input channels per group
    y: AxisGeometry
    x: AxisGeometry
    G: int = 1

    def check(self, path: str | None = None) -> ConvGeometry:
        for label, value in (("B", self.B), ("K", self.K), ("C", self.C), ("G", self.G)):
            if value < 1:
                raise GeometryError(f"{label} is {value}; it must be a positive integer", path)
        self.y.check("Y", path)
        self.x.check("X", path)
        return self

    @property
    def OY(self) -> int:
        return self.y.out

    @property
    def OX(self) -> int:
        return self.x.out

    def frame_macs(self) -> int:
        """MACs of the frame-based (output-centric) layer: padding taps count as work."""
        return self.B * self.G * self.K * self.C * self.OY * self.OX * self.y.kernel * self.x.kernel

    def valid_macs(self) -> int:
        """MACs an event-driven core performs: only (real input, tap) pairs that reach a real output."""
        per_axis = []
        for axis in (self.y, self.x):
            inp, tap = np.meshgrid(np.arange(axis.inp), np.arange(axis.kernel), indexing="ij")
            per_axis.append(int(axis.output_of(inp, tap)[1].sum()))
        return self.B * self.G * self.K * self.C * per_axis[0] * per_axis[1]
