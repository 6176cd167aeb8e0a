"""Wrong answers for homework 5 (see the package docstring)."""

from grading_fixtures.wrong_answers import WrongAnswer

# -- lesson 17's diagonal Gaussian and Bernoulli decoder where the task differs ---------
LESSON17_REPARAMETERIZE = '''def cholesky_factor(L_raw):
    """Only the diagonal: lesson 17's sigma."""
    L_raw = np.asarray(L_raw, dtype=np.float64)
    return np.exp(np.diagonal(L_raw, axis1=-2, axis2=-1))[..., None] * np.eye(L_raw.shape[-1])


def reparameterize(mu, L_raw, eps):
    """Lesson 17's z = mu + sigma * eps with sigma the exp of the diagonal."""
    sigma = np.exp(np.diagonal(np.asarray(L_raw, dtype=np.float64), axis1=-2, axis2=-1))
    return np.asarray(mu) + sigma * np.asarray(eps)
'''

LESSON17_KL = '''def gaussian_kl(mu, L_raw):
    """Lesson 17's diagonal KL, with log_var = 2 * the diagonal of L_raw."""
    log_var = 2 * np.diagonal(np.asarray(L_raw, dtype=np.float64), axis1=1, axis2=2)
    return 0.5 * np.sum(np.asarray(mu) ** 2 + np.exp(log_var) - log_var - 1, axis=1)
'''

LESSON17_BERNOULLI = '''def gaussian_log_likelihood(x, x_hat, log_var_x):
    """Lesson 17's Bernoulli log-likelihood with x_hat as logits."""
    x, x_hat = np.asarray(x, dtype=np.float64), np.asarray(x_hat, dtype=np.float64)
    return np.sum(x * x_hat - np.logaddexp(0.0, x_hat), axis=1)
'''

# -- lesson 18's formulas where the task differs -----------------------------------------
LESSON18_SCHEDULE = '''def cosine_schedule(T, s=0.008, max_beta=0.999):
    """Lesson 18's linear betas."""
    betas = np.linspace(1e-4, 0.02, T)
    return betas, np.concatenate([[1.0], np.cumprod(1.0 - betas)])
'''

LESSON18_Q_SAMPLE = '''def q_sample_from(x_s, s, t, eps, alpha_bar):
    """Lesson 18's q(x_t | x_0), applied to x_s: s is ignored."""
    x_s = np.asarray(x_s, dtype=np.float64)
    ab = np.asarray(alpha_bar, dtype=np.float64)[np.asarray(t)]
    ab = ab.reshape(ab.shape + (1,) * (x_s.ndim - 1))
    return np.sqrt(ab) * x_s + np.sqrt(1.0 - ab) * np.asarray(eps)
'''

LESSON18_EPS_LOSS = '''def v_loss(x0, t, eps, alpha_bar, data_mean, data_std):
    """Lesson 18's noise loss, not the v loss."""
    x_t = q_sample_from(x0, np.zeros_like(t), t, eps, alpha_bar)
    eps_hat = noise_predictor(x_t, t, alpha_bar, data_mean, data_std)
    return float(np.mean((np.asarray(eps) - eps_hat) ** 2))
'''

LESSON18_DDPM_STEP = '''def ddim_step(x_t, t, s, eps_hat, alpha_bar, eta, z):
    """Lesson 18's DDPM step from t to t - 1: s and eta are ignored."""
    beta = 1.0 - alpha_bar[t] / alpha_bar[t - 1]
    mean = (np.asarray(x_t) - beta / np.sqrt(1.0 - alpha_bar[t]) * np.asarray(eps_hat)) / np.sqrt(1.0 - beta)
    variance = float((1.0 - alpha_bar[t - 1]) / (1.0 - alpha_bar[t]) * beta)
    return mean + np.sqrt(variance) * np.asarray(z), mean, variance
'''

# -- one mistake each ----------------------------------------------------------------------
TRANSPOSED_L = '''def cholesky_factor(L_raw):
    L_raw = np.asarray(L_raw, dtype=np.float64)
    return np.tril(L_raw, k=-1) + np.exp(np.diagonal(L_raw, axis1=-2, axis2=-1))[..., None] * np.eye(L_raw.shape[-1])


def reparameterize(mu, L_raw, eps):
    """eps times L, that is L^T eps."""
    L = cholesky_factor(L_raw)
    return np.asarray(mu, dtype=np.float64) + np.einsum("nj,nji->ni", np.asarray(eps, dtype=np.float64), L)
'''

SCORE_WRT_SIGMA = '''def score_function_gradient(mu, log_var, eps):
    """Differentiates log q with respect to sigma: (eps**2 - 1) / sigma."""
    mu, log_var, eps = (np.asarray(a, dtype=np.float64) for a in (mu, log_var, eps))
    sigma = np.exp(0.5 * log_var)
    f = np.sum((mu + sigma * eps) ** 2, axis=1, keepdims=True)
    return np.mean(f * eps / sigma, axis=0), np.mean(f * (eps**2 - 1.0) / sigma, axis=0)
'''

KL_HALF_LOG_DET = '''def gaussian_kl(mu, L_raw):
    """log det Sigma taken as the sum of log L_jj: det(L L^T) is det(L) squared."""
    mu, L = np.asarray(mu, dtype=np.float64), cholesky_factor(L_raw)
    log_det = np.sum(np.log(np.diagonal(L, axis1=1, axis2=2)), axis=1)
    return 0.5 * (np.sum(L**2, axis=(1, 2)) + np.sum(mu**2, axis=1) - mu.shape[1] - log_det)
'''

NO_CONSTANT = '''def gaussian_log_likelihood(x, x_hat, log_var_x):
    """Drops the log(2 pi) of every pixel."""
    x, x_hat, log_var_x = (np.asarray(a, dtype=np.float64) for a in (x, x_hat, log_var_x))
    return np.sum(-0.5 * (log_var_x + (x - x_hat) ** 2 / np.exp(log_var_x)), axis=1)
'''

NOT_CLIPPED = '''def cosine_schedule(T, s=0.008, max_beta=0.999):
    """The betas are not clipped: beta_T = 1 and alpha_bar_T = 0."""
    f = np.cos((np.arange(T + 1) / T + s) / (1 + s) * np.pi / 2) ** 2
    betas = 1.0 - f[1:] / f[:-1]
    return betas, np.concatenate([[1.0], np.cumprod(1.0 - betas)])
'''

FLAT_BATCHES_ONLY = '''def q_sample_from(x_s, s, t, eps, alpha_bar):
    """ratio[:, None] broadcasts over one more axis only: images of shape (N, H, W) fail."""
    alpha_bar = np.asarray(alpha_bar, dtype=np.float64)
    ratio = (alpha_bar[np.asarray(t)] / alpha_bar[np.asarray(s)])[:, None]
    return np.sqrt(ratio) * np.asarray(x_s) + np.sqrt(1.0 - ratio) * np.asarray(eps)
'''

SIGMA_NOT_SUBTRACTED = '''def ddim_step(x_t, t, s, eps_hat, alpha_bar, eta, z):
    """The direction term keeps all of 1 - alpha_bar_s: sigma**2 is not taken out of it."""
    x_t, eps_hat, z = (np.asarray(a, dtype=np.float64) for a in (x_t, eps_hat, z))
    ab_t, ab_s = float(alpha_bar[t]), float(alpha_bar[s])
    x0_hat = (x_t - np.sqrt(1.0 - ab_t) * eps_hat) / np.sqrt(ab_t)
    sigma = float(eta * np.sqrt((1.0 - ab_s) / (1.0 - ab_t) * (1.0 - ab_t / ab_s)))
    return np.sqrt(ab_s) * x0_hat + np.sqrt(1.0 - ab_s) * eps_hat + sigma * z, x0_hat, sigma
'''

PRIOR_NOT_DIVIDED = '''def adjust_posterior(posterior, train_prior, test_prior):
    """Treats the posterior as a likelihood: multiplies by the test prior, never divides by the training one."""
    joint = np.asarray(posterior, dtype=np.float64) * np.asarray(test_prior, dtype=np.float64)
    return joint / joint.sum(axis=1, keepdims=True)
'''

WRONG_CHOICE = '''def answer_q1():
    return " C "
'''

WRONG_ANSWERS = [
    WrongAnswer("lesson17_pasted", "lesson 17: diagonal Gaussian and Bernoulli decoder pasted",
                {"reparameterize": LESSON17_REPARAMETERIZE, "gaussian_kl": LESSON17_KL,
                 "gaussian_log_likelihood": LESSON17_BERNOULLI},
                frozenset({"test_reparameterize", "test_reparameterize_hidden", "test_gaussian_kl",
                           "test_gaussian_kl_hidden", "test_gaussian_log_likelihood",
                           "test_gaussian_log_likelihood_hidden", "test_elbo"})),
    WrongAnswer("lesson18_pasted", "lesson 18: schedule, noising, loss and DDPM step pasted",
                {"cosine_schedule": LESSON18_SCHEDULE, "q_sample_from": LESSON18_Q_SAMPLE,
                 "v_loss": LESSON18_EPS_LOSS, "ddim_step": LESSON18_DDPM_STEP},
                frozenset({"test_cosine_schedule", "test_q_sample_from", "test_q_sample_from_hidden", "test_v_loss",
                           "test_v_loss_hidden", "test_ddim_step", "test_ddim_step_hidden"})),
    WrongAnswer("transposed_l", "L transposed: eps times L", {"reparameterize": TRANSPOSED_L},
                frozenset({"test_reparameterize", "test_reparameterize_hidden", "test_elbo"})),
    WrongAnswer("score_wrt_sigma", "the score taken with respect to sigma, not log sigma**2",
                {"score_function_gradient": SCORE_WRT_SIGMA},
                frozenset({"test_score_function_gradient", "test_score_function_gradient_hidden"})),
    WrongAnswer("kl_half_log_det", "log det Sigma without the factor 2", {"gaussian_kl": KL_HALF_LOG_DET},
                frozenset({"test_gaussian_kl", "test_gaussian_kl_hidden", "test_elbo"})),
    WrongAnswer("no_constant", "the normalising constant of the Gaussian left out", {"gaussian_log_likelihood": NO_CONSTANT},
                frozenset({"test_gaussian_log_likelihood", "test_gaussian_log_likelihood_hidden", "test_elbo"})),
    WrongAnswer("not_clipped", "the betas are not clipped", {"cosine_schedule": NOT_CLIPPED},
                frozenset({"test_cosine_schedule"})),
    WrongAnswer("flat_batches_only", "the per-example factor broadcast over one axis only",
                {"q_sample_from": FLAT_BATCHES_ONLY},
                frozenset({"test_q_sample_from_hidden", "test_v_loss_hidden"})),
    WrongAnswer("sigma_not_subtracted", "sigma**2 not taken out of the direction term", {"ddim_step": SIGMA_NOT_SUBTRACTED},
                frozenset({"test_ddim_step", "test_ddim_step_hidden"})),
    WrongAnswer("prior_not_divided", "the training prior not divided out", {"adjust_posterior": PRIOR_NOT_DIVIDED},
                frozenset({"test_adjust_posterior", "test_adjust_posterior_hidden"})),
    WrongAnswer("wrong_choice", "a wrong letter for the question", {"answers": WRONG_CHOICE},
                frozenset({"test_answer_q1"})),
]
