<!-- title: Tin hoạt động -->
<h2>Tin hoạt động</h2>
<ul>
  <li><a href="/Pages/TinTuc/trien-khai-luat-ho-tich.aspx">Triển khai thi hành Luật Hộ tịch từ ngày 01/01/2016</a> ({{days_ago:4:long}})</li>
  <li><a href="/Pages/TinTuc/tro-giup-phap-ly-luu-dong.aspx">Trợ giúp pháp lý lưu động tại xã Trọng Hóa, huyện Minh Hóa</a> ({{days_ago:11:long}})</li>
</ul>
