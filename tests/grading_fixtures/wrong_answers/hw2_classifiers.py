"""Wrong answers for homework 2 (see the package docstring)."""

from grading_fixtures.wrong_answers import WrongAnswer

LESSON_L2 = '''def cosine_distances(X_test, X_train):
    """Lesson 06's l2_no_loops pasted: L2 distances, not cosine ones."""
    centre = X_train.mean(axis=0)
    q, t = X_test - centre, X_train - centre
    squared = (q**2).sum(axis=1)[:, None] + (t**2).sum(axis=1)[None, :] - 2 * q @ t.T
    return np.sqrt(np.maximum(squared, 0))
'''

COSINE_NO_ZERO_GUARD = '''def cosine_distances(X_test, X_train):
    """Divides by the norms without a guard: a row of zeros gives nan."""
    X_test, X_train = np.asarray(X_test, dtype=float), np.asarray(X_train, dtype=float)
    norms = np.linalg.norm(X_test, axis=1)[:, None] * np.linalg.norm(X_train, axis=1)[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.clip(1.0 - (X_test @ X_train.T) / norms, 0.0, 2.0)
'''

KNN_ONE_TOO_MANY = '''def knn_predict(dists, y_train, k):
    """Takes k + 1 neighbours (off by one)."""
    nearest = np.argsort(dists, axis=1, kind="stable")[:, :k + 1]
    votes = np.asarray(y_train)[nearest]
    n_labels = int(np.max(y_train)) + 1
    return np.array([np.argmax(np.bincount(row, minlength=n_labels)) for row in votes], dtype=np.int64)
'''

SOFTMAX_NO_MEAN = '''def softmax_loss_and_grad(W, X, y, reg):
    """The loss is a mean, but the gradient is summed over the images (no 1/N)."""
    scores = X @ W
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(X.shape[0])
    loss = -log_probs[rows, y].mean() + reg * np.sum(W * W)
    dscores = np.exp(log_probs)
    dscores[rows, y] -= 1.0
    return float(loss), X.T @ dscores + 2.0 * reg * W
'''

ONE_SIDED_DIFFERENCE = '''def numerical_gradient(f, W, h=1e-5):
    """One-sided differences (f(w + h) - f(w)) / h: an error of order h, not h**2."""
    grad = np.zeros(W.shape)
    base = f(W)
    for index in np.ndindex(W.shape):
        original = W[index]
        W[index] = original + h
        grad[index] = (f(W) - base) / h
        W[index] = original
    return grad


def numerical_gradient_of(name, W, data=(), h=1e-5):
    """For the tests (do not change): your gradient of the course's test function `name`, and W afterwards."""
    grad = numerical_gradient(lambda V: test_function(name, V, *data), W, h)
    return grad, W
'''

RELU_ON_SCORES = '''def mlp_forward(X, W1, b1, W2, b2):
    """A ReLU after the last layer too: negative scores become 0."""
    hidden = np.maximum(X @ W1 + b1, 0.0)
    return np.maximum(hidden @ W2 + b2, 0.0)
'''

BACKWARD_NO_MASK = '''def mlp_backward(X, W1, b1, W2, b2, dS):
    """Forgets the ReLU's derivative: dZ = dA everywhere."""
    A = np.maximum(X @ W1 + b1, 0.0)
    dZ = dS @ W2.T
    return X.T @ dZ, dZ.sum(axis=0), A.T @ dS, dS.sum(axis=0)
'''

WRONG_CHOICES = '''def answer_q1():
    return "a"


def answer_q2():
    return " A "
'''

WRONG_ANSWERS = [
    WrongAnswer("lesson_l2", "a lesson's function pasted where the task differs", {"cosine_distances": LESSON_L2},
                frozenset({"test_cosine_distances", "test_cosine_distances_hidden"})),
    WrongAnswer("zero_rows", "a row of zeros gives nan", {"cosine_distances": COSINE_NO_ZERO_GUARD},
                frozenset({"test_cosine_distances_hidden"})),
    WrongAnswer("knn_off_by_one", "one neighbour too many", {"knn_predict": KNN_ONE_TOO_MANY},
                frozenset({"test_knn_predict", "test_knn_predict_hidden"})),
    WrongAnswer("softmax_no_mean", "the gradient is not divided by N", {"softmax_loss_and_grad": SOFTMAX_NO_MEAN},
                frozenset({"test_softmax_loss_and_grad", "test_softmax_loss_and_grad_hidden"})),
    WrongAnswer("one_sided", "one-sided differences", {"numerical_gradient": ONE_SIDED_DIFFERENCE},
                frozenset({"test_numerical_gradient", "test_numerical_gradient_hidden"})),
    WrongAnswer("relu_on_scores", "a ReLU on the scores", {"mlp_forward": RELU_ON_SCORES},
                frozenset({"test_mlp_forward", "test_mlp_forward_hidden"})),
    WrongAnswer("no_relu_mask", "the ReLU's derivative left out of the backward pass", {"mlp_backward": BACKWARD_NO_MASK},
                frozenset({"test_mlp_backward", "test_mlp_backward_hidden"})),
    WrongAnswer("wrong_choices", "wrong letters for the two questions", {"answers": WRONG_CHOICES},
                frozenset({"test_answer_q1", "test_answer_q2"})),
]
