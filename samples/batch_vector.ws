# Why loss.mean().backward(): the batch x = [1, 2, 3, 4], y = [2, 4, 6, 8] as vectors, w = b = 0.
# The mean's 1/4 shows up in every gradient: dloss/dw = -30, dloss/db = -10 (as in batch_mean.ws),
# so one SGD step with lr = 0.01 gives w = 0.3, b = 0.1.
param w = 0
param b = 0
data  x = [1, 2, 3, 4]
data  y = [2, 4, 6, 8]
y_pred = w*x + b
loss = mean((y_pred - y)**2)
