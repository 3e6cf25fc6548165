import torch
import matplotlib.pyplot as plt

torch.manual_seed(0)
x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]
w = torch.tensor([1.0], requires_grad=True)

epoch_list = []
loss_list = []
for epoch in range(100):
    for x, y in zip(x_data, y_data):
        l = (x * w - y) ** 2
        l.backward()
        w.data = w.data - 0.01 * w.grad.data
        w.grad.data.zero_()
    if epoch % 10 == 0:
        print("progress:", epoch, l.item())
    epoch_list.append(epoch)
    loss_list.append(l.item())

plt.plot(epoch_list, loss_list)
plt.ylabel("loss")
plt.xlabel("epoch")
plt.show()
