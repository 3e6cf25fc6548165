# A linear model on one sample with squared error: what loss.backward() computes.
# (The PyTorch backward()/zero_grad() tutorial: w = 1, b = 0, x = 2, y_true = 4.)
#   worksheet derive samples/linear_one_sample.ws
# gives dloss/dw = 2(y_pred - y_true)·x = -8 and dloss/db = 2(y_pred - y_true) = -4.
param w = 1
param b = 0
data  x = 2
data  y_true = 4
y_pred = w*x + b
loss = (y_pred - y_true)**2
