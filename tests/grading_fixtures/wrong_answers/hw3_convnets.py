"""Wrong answers for homework 3 (see the package docstring)."""

from grading_fixtures.wrong_answers import WrongAnswer

CONV_DILATION_IGNORED = '''def conv2d_forward(x, w, b, stride=1, padding=0, dilation=1, groups=1):
    \"\"\"Groups handled, but the dilation ignored: the kernel's taps stay next to each other.\"\"\"
    x, w, b = (np.asarray(a, dtype=np.float64) for a in (x, w, b))
    n, channels, height, width = x.shape
    filters, group_channels, kh, kw = w.shape
    if channels != groups * group_channels or filters % groups:
        raise ValueError("channels and groups do not fit")
    out_h = (height + 2 * padding - kh) // stride + 1
    out_w = (width + 2 * padding - kw) // stride + 1
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    weights = w.reshape(groups, filters // groups, group_channels, kh, kw)
    out = np.zeros((n, groups, filters // groups, out_h, out_w))
    for s in range(kh):
        for t in range(kw):
            seen = padded[:, :, s : s + stride * (out_h - 1) + 1 : stride, t : t + stride * (out_w - 1) + 1 : stride]
            out += np.einsum("ngcij,gfc->ngfij", seen.reshape(n, groups, group_channels, out_h, out_w),
                             weights[:, :, :, s, t])
    return out.reshape(n, filters, out_h, out_w) + b[None, :, None, None]
'''

CONV_GROUPS_INTERLEAVED = '''def conv2d_forward(x, w, b, stride=1, padding=0, dilation=1, groups=1):
    \"\"\"Filter f reads group f % G (groups dealt out in turn) instead of group f // (F / G).\"\"\"
    x, w, b = (np.asarray(a, dtype=np.float64) for a in (x, w, b))
    n, channels, height, width = x.shape
    filters, group_channels, kh, kw = w.shape
    if channels != groups * group_channels or filters % groups:
        raise ValueError("channels and groups do not fit")
    out_h = (height + 2 * padding - dilation * (kh - 1) - 1) // stride + 1
    out_w = (width + 2 * padding - dilation * (kw - 1) - 1) // stride + 1
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    out = np.zeros((n, filters, out_h, out_w))
    for f in range(filters):
        group = f % groups
        inputs = padded[:, group * group_channels : (group + 1) * group_channels]
        for s in range(kh):
            for t in range(kw):
                rows = slice(dilation * s, dilation * s + stride * (out_h - 1) + 1, stride)
                cols = slice(dilation * t, dilation * t + stride * (out_w - 1) + 1, stride)
                out[:, f] += np.einsum("ncij,c->nij", inputs[:, :, rows, cols], w[f, :, s, t])
    return out + b[None, :, None, None]
'''

BACKWARD_NOT_CROPPED = '''def conv2d_backward(dout, x, w, stride=1, padding=0, dilation=1, groups=1):
    \"\"\"dx is the gradient of the padded input: its border is not cropped.\"\"\"
    dout, x, w = (np.asarray(a, dtype=np.float64) for a in (dout, x, w))
    n, channels = x.shape[:2]
    filters, group_channels, kh, kw = w.shape
    out_h, out_w = dout.shape[2:]
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    d_padded = np.zeros_like(padded)
    dw = np.zeros((groups, filters // groups, group_channels, kh, kw))
    weights = w.reshape(groups, filters // groups, group_channels, kh, kw)
    grouped_dout = dout.reshape(n, groups, filters // groups, out_h, out_w)
    for s in range(kh):
        for t in range(kw):
            rows = slice(dilation * s, dilation * s + stride * (out_h - 1) + 1, stride)
            cols = slice(dilation * t, dilation * t + stride * (out_w - 1) + 1, stride)
            seen = padded[:, :, rows, cols].reshape(n, groups, group_channels, out_h, out_w)
            dw[:, :, :, s, t] = np.einsum("ngfij,ngcij->gfc", grouped_dout, seen)
            spread = np.einsum("ngfij,gfc->ngcij", grouped_dout, weights[:, :, :, s, t])
            d_padded[:, :, rows, cols] += spread.reshape(n, channels, out_h, out_w)
    return d_padded, dw.reshape(w.shape), dout.sum(axis=(0, 2, 3))
'''

# Lesson 08's pool_loops, run over all images and channels at once: whole windows only.
MAXPOOL_FLOOR = '''def maxpool_forward(x, size=2, stride=2, ceil_mode=False):
    \"\"\"Only whole windows, whatever ceil_mode says: the partial ones at the edges are dropped.\"\"\"
    x = np.asarray(x, dtype=np.float64)
    n, c, height, width = x.shape
    rows, cols = (height - size) // stride + 1, (width - size) // stride + 1
    out = np.zeros((n, c, rows, cols))
    for r in range(rows):
        for col in range(cols):
            out[:, :, r, col] = x[:, :, r * stride : r * stride + size, col * stride : col * stride + size].max(axis=(2, 3))
    return out
'''

MAXPOOL_BACKWARD_ZERO_PADDED = '''def maxpool_backward(dout, x, size=2, stride=2, ceil_mode=False):
    \"\"\"Partial windows completed with zeros (np.pad's default): a negative maximum loses its gradient.\"\"\"
    x = np.asarray(x, dtype=np.float64)
    dout = np.asarray(dout, dtype=np.float64)
    n, channels, height, width = x.shape
    out_h, out_w = dout.shape[2:]
    reach_h = max((out_h - 1) * stride + size, height)
    reach_w = max((out_w - 1) * stride + size, width)
    padded = np.pad(x, ((0, 0), (0, 0), (0, reach_h - height), (0, reach_w - width)))
    dx = np.zeros_like(padded)
    batch, channel = np.meshgrid(np.arange(n), np.arange(channels), indexing="ij")
    for i in range(out_h):
        for j in range(out_w):
            window = padded[:, :, i * stride : i * stride + size, j * stride : j * stride + size].reshape(n, channels, -1)
            row, col = np.divmod(window.argmax(axis=2), size)
            dx[batch, channel, i * stride + row, j * stride + col] += dout[:, :, i, j]
    return dx[:, :, :height, :width]
'''

RESIDUAL_NO_FINAL_RELU = '''def residual_block(x, w1, b1, w2, b2):
    """x + F(x) without the ReLU after the addition."""
    x = np.asarray(x, dtype=np.float64)
    hidden = np.maximum(conv2d_forward(x, w1, b1, 1, np.shape(w1)[-1] // 2), 0)
    return x + conv2d_forward(hidden, w2, b2, 1, np.shape(w2)[-1] // 2)
'''

_TRAINING = '''

def _train(architecture, images, labels, epochs):
    torch.manual_seed(0)
    model = build_model(architecture)
    images = torch.as_tensor(images, dtype=torch.float32)
    labels = torch.as_tensor(labels, dtype=torch.int64)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for _epoch in range(epochs):
        order = torch.randperm(len(images))
        for start in range(0, len(images), 64):
            batch = order[start : start + 64]
            loss = F.cross_entropy(model(images[batch]), labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model
'''

CNN_UNTRAINED_WEIGHTS = '''def cnn_architecture():
    return [("conv", 16, 3), ("relu",), ("maxpool", 2), ("conv", 32, 3), ("relu",), ("maxpool", 2),
            ("flatten",), ("linear", 10)]
''' + _TRAINING + '''

def train_cnn(images, labels):
    """Trains a model, then returns the weights of a freshly built one."""
    _train(cnn_architecture(), images, labels, 6)
    return get_weights(build_model(cnn_architecture()))
'''

# An edited training cell that reports false figures, as a tampered fit_and_predict
# could before the tests measured them: it trains a large, slow CNN, and tells every
# counter and clock it can reach in its kernel that the model is small and quick.
CNN_FALSE_FIGURES = '''import time as _time

import hw3_helpers

LARGE = [("conv", 32, 3), ("relu",), ("conv", 64, 3), ("relu",), ("maxpool", 2), ("flatten",), ("linear", 10)]


def cnn_architecture():
    return LARGE
''' + _TRAINING + '''

def train_cnn(images, labels):
    return get_weights(_train(LARGE, images, labels, 8))


def fit_and_predict(images, labels, new_images):
    """The old interface, with made-up figures: 9,000 parameters, 2 conv layers, 1 s."""
    model = build_model(LARGE)
    set_weights(model, train_cnn(images, labels))
    with torch.no_grad():
        predicted = model.eval()(torch.as_tensor(new_images, dtype=torch.float32)).argmax(dim=1).numpy()
    return predicted.astype(np.int64), 9_000, 2, 1.0


hw3_helpers.count_parameters = count_parameters = lambda model: 9_000  # noqa: E731
hw3_helpers.MAX_PARAMETERS = MAX_PARAMETERS = 10**9
hw3_helpers.TIME_BUDGET_RATIO = TIME_BUDGET_RATIO = 10.0**9
_frozen = _time.perf_counter()
_time.perf_counter = lambda: _frozen  # a stopped clock
_time.process_time = lambda: 0.0
'''

TRANSFER_FINETUNE_ALL = '''def transfer_answer():
    return "a"
'''


def _wrong(name: str, about: str, answers: dict[str, str], *fails: str) -> WrongAnswer:
    return WrongAnswer(name, about, answers, frozenset(fails))


WRONG_ANSWERS = [
    _wrong("conv_dilation_ignored", "the dilation ignored: the kernel's taps next to each other",
           {"conv2d_forward": CONV_DILATION_IGNORED}, "test_conv2d_forward", "test_conv2d_forward_hidden",
           "test_conv_numerical_gradients"),
    _wrong("conv_groups_interleaved", "filter f given group f % G instead of f // (F / G)",
           {"conv2d_forward": CONV_GROUPS_INTERLEAVED}, "test_conv2d_forward", "test_conv2d_forward_hidden",
           "test_conv_numerical_gradients"),
    _wrong("backward_not_cropped", "dx of the padded input, its border not cropped",
           {"conv2d_backward": BACKWARD_NOT_CROPPED}, "test_conv2d_backward", "test_conv2d_backward_hidden"),
    _wrong("maxpool_floor", "partial windows dropped: whole windows only, whatever ceil_mode says",
           {"maxpool_forward": MAXPOOL_FLOOR}, "test_maxpool_forward", "test_maxpool_forward_hidden"),
    _wrong("maxpool_backward_zero_padded", "partial windows filled with zeros: a negative maximum loses its gradient",
           {"maxpool_backward": MAXPOOL_BACKWARD_ZERO_PADDED}, "test_maxpool_backward", "test_maxpool_backward_hidden"),
    _wrong("residual_no_final_relu", "no ReLU after the skip connection's addition",
           {"residual_block": RESIDUAL_NO_FINAL_RELU}, "test_residual_block", "test_residual_block_hidden"),
    _wrong("cnn_untrained_weights", "the weights of a fresh model returned, not the trained one",
           {"cnn_architecture": CNN_UNTRAINED_WEIGHTS}, "test_cnn_accuracy", "test_cnn_hidden"),
    _wrong("cnn_false_figures", "a large, slow CNN whose training cell reports false figures",
           {"cnn_architecture": CNN_FALSE_FIGURES}, "test_cnn_size", "test_cnn_time"),
    _wrong("transfer_finetune_all", "finetune everything on 150 images", {"transfer_answer": TRANSFER_FINETUNE_ALL},
           "test_transfer_answer"),
]
